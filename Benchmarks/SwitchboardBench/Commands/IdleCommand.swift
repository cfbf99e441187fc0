import ArgumentParser
import NIOCore

/// `idle`: what an idle connection costs the server, and how fast it accepts them.
///
/// Each connection subscribes to its own public channel, so the figure includes one
/// subscription's state, the common case for a Pusher app. DESIGN.md targets 4 KiB per
/// idle connection.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Open N subscribed connections; report connect rate and server memory per connection."
    )

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Connections to open.")
    var connections = 1000

    @Option(help: "Seconds to wait after the last connection before sampling the server's memory.")
    var settle = 3.0

    func run() async throws {
        let report = try await BenchEnvironment.with(self.broker) { environment in
            let serverBefore = environment.serverSample
            let generatorBefore = ProcessSample.current()
            let start = NIODeadline.now()
            let channels = try await environment.connector.connect(
                channelNames: (0..<self.connections).map { "idle-\($0)" }
            )
            let connectSeconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
            // CPU over the connect phase alone: which side limits the connect rate.
            let serverConnected = environment.serverSample
            let generator = ProcessDelta(before: generatorBefore, after: ProcessSample.current())
            let server = ProcessDelta(before: serverBefore, after: serverConnected)
            try await Task.sleep(for: .seconds(self.settle))
            let serverAfter = environment.serverSample
            let observed = try await environment.registry.snapshot()
            await environment.close(channels)

            var report = Report(scenario: "idle")
            report.add("connections", .int(channels.count))
            report.add("connect_seconds", connectSeconds, decimals: 3)
            report.add("connect_rate_per_s", Double(channels.count) / connectSeconds, decimals: 0)
            report.add("connect_server_cpu_percent", server.cpuSeconds.map { $0 * 100 / connectSeconds }, decimals: 1)
            report.add(
                "connect_generator_cpu_percent", generator.cpuSeconds.map { $0 * 100 / connectSeconds }, decimals: 1
            )
            report.add(
                "server_cpu_us_per_connect",
                server.cpuSeconds.map { $0 * 1e6 / Double(max(1, channels.count)) },
                decimals: 1
            )
            report.add("disconnects", .int(observed.disconnects))
            report.add("server_rss_before_kib", serverBefore.map { .int($0.residentKiB) } ?? .null)
            report.add("server_rss_after_kib", serverAfter.map { .int($0.residentKiB) } ?? .null)
            if let before = serverBefore, let after = serverAfter {
                let delta = after.residentKiB - before.residentKiB
                report.add("rss_delta_kib", .int(delta))
                report.add("kib_per_connection", Double(delta) / Double(max(1, channels.count)), decimals: 2)
                report.add("server_cpu_s", after.cpuSeconds - before.cpuSeconds, decimals: 3)
            } else {
                report.add("rss_delta_kib", .null)
                report.add("kib_per_connection", .null)
            }
            return report.rendered()
        }
        print(report)
    }
}
