import ArgumentParser

/// `fanout`: N subscribers on one channel, events published to it over the HTTP API.
///
/// The server's cost here is dominated by fan-out (one encoded frame written N times),
/// so CPU per delivery is the number to compare across versions.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "N subscribers on one channel; report deliveries/s, latency, loss and server CPU per delivery."
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var load: LoadOptions

    @Option(help: "Subscribers on the channel.")
    var connections = 1000

    @Option(help: "Events per second; 0 publishes as fast as subscribers keep up.")
    var rate = 50.0

    func validate() throws {
        guard self.rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
    }

    func run() async throws {
        let output = try await BenchEnvironment.with(self.broker) { environment in
            let channels = try await environment.connector.connect(
                channelNames: Array(repeating: FanoutScenario.channelName, count: self.connections)
            )
            let result = try await FanoutScenario(
                environment: environment, load: self.load, rate: self.rate, subscribers: channels.count
            ).run()
            await environment.close(channels)
            let report = FanoutScenario.report(
                result, scenario: "fanout", subscribers: channels.count, rate: self.rate, load: self.load
            )
            return report.rendered()
        }
        print(output)
    }
}

/// The publishing phase shared by `fanout` and `slow-consumer` (its baseline and its run).
struct FanoutScenario {
    static let channelName = "bench-fanout"

    var environment: BenchEnvironment
    var load: LoadOptions
    var rate: Double
    var subscribers: Int

    func run() async throws -> LoadPhaseResult {
        let configuration = Publisher.Configuration(
            target: self.environment.makePublishTarget(dataBytes: self.load.size),
            rate: self.rate,
            batchSize: self.load.batchSize(rate: self.rate),
            connections: self.load.publishers,
            channels: [Self.channelName],
            deliveriesPerEvent: self.subscribers,
            maximumLagEvents: self.load.maximumLag
        )
        let phase = LoadPhase(environment: self.environment, publisher: configuration, duration: self.load.duration)
        return try await phase.run()
    }

    static func report(
        _ result: LoadPhaseResult, scenario: String, subscribers: Int, rate: Double, load: LoadOptions
    ) -> Report {
        var report = Report(scenario: scenario)
        report.add("subscribers", .int(subscribers))
        report.add("mode", .string(rate == 0 ? "closed-loop" : "paced"))
        report.add("rate_offered_per_s", .number(rate, decimals: 1))
        report.add("batch", .int(load.batchSize(rate: rate)))
        report.add("size_bytes", .int(load.size))
        result.add(to: &report)
        return report
    }
}
