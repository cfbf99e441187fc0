import ArgumentParser
import NIOCore

/// `slow-consumer`: the fan-out scenario plus one subscriber that never reads.
///
/// The question is isolation: the healthy subscribers' latency should not move, the
/// server's memory should stay bounded by its outbound budget (`max_outbound_buffer_bytes`,
/// 1 MiB by default), and the slow socket should be closed once it exceeds that budget.
/// With `--compare-baseline` the same subscribers first run plain `fanout`.
struct SlowConsumerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slow-consumer",
        abstract: "Fan-out with one subscriber that stops reading; report healthy latency and server memory."
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var load: LoadOptions

    @Option(help: "Healthy subscribers on the channel.")
    var connections = 1000

    @Option(help: "Events per second; 0 publishes as fast as the healthy subscribers keep up.")
    var rate = 50.0

    @Flag(help: "Run plain fanout first with the same parameters and report the p99 ratio.")
    var compareBaseline = false

    func validate() throws {
        guard self.rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
    }

    func run() async throws {
        let output = try await BenchEnvironment.with(self.broker) { environment in
            let healthy = try await environment.connector.connect(
                channelNames: Array(repeating: FanoutScenario.channelName, count: self.connections)
            )
            let scenario = FanoutScenario(
                environment: environment, load: self.load, rate: self.rate, subscribers: healthy.count
            )
            var blocks: [String] = []
            var baseline: LoadPhaseResult?
            if self.compareBaseline {
                let result = try await scenario.run()
                baseline = result
                let report = FanoutScenario.report(
                    result, scenario: "fanout-baseline", subscribers: healthy.count, rate: self.rate, load: self.load
                )
                blocks.append(report.rendered())
            }

            let slow = try await environment.connector.connect(channelName: FanoutScenario.channelName, isSlow: true)
                .get()
            let probe = SocketStateProbe(
                serverPort: environment.broker.address.port,
                clientPort: slow.localAddress?.port ?? 0
            )
            let rssStart = environment.serverSample
            let result = try await scenario.run()
            // Observed once, after the measured phase: reading the TCP table during it takes
            // the generator's core for milliseconds with thousands of sockets, and in an
            // earlier version of this command that alone moved the healthy p99 by 1.7x.
            let end = probe.observe()
            await environment.close(healthy + [slow])

            var report = FanoutScenario.report(
                result, scenario: "slow-consumer", subscribers: healthy.count, rate: self.rate, load: self.load
            )
            report.add("slow_closed_by_server", .bool(end?.state != "ESTABLISHED"))
            report.add("slow_server_socket_state_end", .string(end?.state ?? "gone"))
            report.add("slow_server_kernel_send_queue_end_bytes", .int(end?.sendQueueBytes ?? 0))
            report.add("server_rss_start_kib", rssStart.map { .int($0.residentKiB) } ?? .null)
            if let baseline {
                let p99 = result.latencyMilliseconds(atQuantile: 0.99)
                let baselineP99 = baseline.latencyMilliseconds(atQuantile: 0.99)
                report.add("baseline_p99_ms", baselineP99, decimals: 3)
                report.add("p99_ratio_vs_baseline", p99.flatMap { p in baselineP99.map { p / $0 } }, decimals: 2)
            }
            blocks.append(report.rendered())
            return blocks.joined(separator: "\n")
        }
        print(output)
    }
}
