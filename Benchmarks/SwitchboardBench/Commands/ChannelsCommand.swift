import ArgumentParser

/// `channels`: many channels with one subscriber each, published round-robin in batches.
///
/// The opposite of fan-out: every event costs a channel lookup and one write, so this
/// measures per-event overhead (HTTP parsing, signature check, routing) at a total rate.
struct ChannelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channels",
        abstract: "One subscriber on each of N channels; publish round-robin with batch_events."
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var load: LoadOptions

    @Option(help: "Channels, each with its own subscriber.")
    var channels = 1000

    @Option(help: "Events per second over all channels; 0 publishes as fast as subscribers keep up.")
    var rate = 5000.0

    func validate() throws {
        guard self.rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
        guard self.channels > 0 else { throw ValidationError("--channels must be positive") }
    }

    func run() async throws {
        let output = try await BenchEnvironment.with(self.broker) { environment in
            let names = (0..<self.channels).map { "bench-channel-\($0)" }
            let subscribers = try await environment.connector.connect(channelNames: names)
            let batch = self.load.batch ?? 10
            let configuration = Publisher.Configuration(
                target: environment.makePublishTarget(dataBytes: self.load.size),
                rate: self.rate,
                batchSize: batch,
                connections: self.load.publishers,
                channels: names,
                deliveriesPerEvent: 1,
                maximumLagEvents: max(self.load.maximumLag, batch * self.load.publishers)
            )
            let result = try await LoadPhase(
                environment: environment, publisher: configuration, duration: self.load.duration
            ).run()
            await environment.close(subscribers)

            var report = Report(scenario: "channels")
            report.add("channels", .int(subscribers.count))
            report.add("mode", .string(self.rate == 0 ? "closed-loop" : "paced"))
            report.add("rate_offered_per_s", .number(self.rate, decimals: 1))
            report.add("batch", .int(batch))
            report.add("size_bytes", .int(self.load.size))
            result.add(to: &report)
            return report.rendered()
        }
        print(output)
    }
}
