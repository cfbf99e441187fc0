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
            let start = NIODeadline.now()
            let watch = Task { await SlowConsumerWatch.watch(probe, since: start) }
            let result = try await scenario.run()
            watch.cancel()
            let watched = await watch.value
            let closedAfter = watched.closedAfterSeconds
            let endState = probe.observe()?.state
            await environment.close(healthy + [slow])

            var report = FanoutScenario.report(
                result, scenario: "slow-consumer", subscribers: healthy.count, rate: self.rate, load: self.load
            )
            report.add("slow_closed_by_server", .bool(closedAfter != nil))
            report.add("slow_closed_after_s", closedAfter, decimals: 2)
            report.add("slow_server_socket_state_end", .string(endState ?? "gone"))
            report.add("slow_server_kernel_send_queue_max_bytes", .int(watched.maximumSendQueueBytes))
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

/// Polls the server's side of the slow socket until it leaves `ESTABLISHED`.
struct SlowConsumerWatch: Sendable {
    /// Seconds from the start of publishing to the server closing the socket.
    var closedAfterSeconds: Double?
    /// The largest kernel send queue seen on the server's side while it was open.
    var maximumSendQueueBytes = 0

    /// Reading the TCP table costs the generator a few milliseconds with thousands of sockets.
    private static let probeInterval = TimeAmount.seconds(1)

    /// Returns when the socket closes or the task is cancelled.
    static func watch(_ probe: SocketStateProbe, since start: NIODeadline) async -> SlowConsumerWatch {
        var result = SlowConsumerWatch()
        while !Task.isCancelled {
            let observation = probe.observe()
            if let observation {
                result.maximumSendQueueBytes = max(result.maximumSendQueueBytes, observation.sendQueueBytes)
            }
            if observation?.state != "ESTABLISHED" {
                result.closedAfterSeconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
                return result
            }
            try? await Task.sleep(for: .nanoseconds(Self.probeInterval.nanoseconds))
        }
        return result
    }
}
