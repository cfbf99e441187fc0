import ArgumentParser
import PusherProtocol

/// `compare`: the same scenarios run against two brokers, side by side, as ratios.
///
/// `Benchmarks/run-benchmarks.sh` runs every scenario against Switchboard and then
/// against nats-server, writing one JSON line per scenario to a file per broker; this
/// pairs the lines in order and prints a Markdown table for BENCHMARKS.md. A ratio below
/// 1 is better for Switchboard on every row but the rates, where above 1 is better.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Print two runs' JSON results side by side with ratios (ours / peer)."
    )

    @Argument(help: "Our results: one JSON line per scenario.")
    var ours: String

    @Argument(help: "The peer's results, same scenarios in the same order.")
    var peer: String

    @Option(help: "Name of the peer's column.")
    var peerName = "nats-server"

    /// The figures worth comparing, in print order, with their labels.
    private static let metrics: [(key: String, label: String)] = [
        ("connect_rate_per_s", "connect rate (/s)"),
        ("server_cpu_us_per_connect", "server CPU per connect (µs)"),
        ("connect_generator_cpu_percent", "generator CPU while connecting (%)"),
        ("kib_per_connection", "server RSS per connection (KiB)"),
        ("deliveries_per_s", "deliveries/s"),
        ("server_cpu_us_per_delivery", "server CPU per delivery (µs)"),
        ("latency_p50_ms", "latency p50 (ms)"),
        ("latency_p99_ms", "latency p99 (ms)"),
        ("latency_p999_ms", "latency p99.9 (ms)"),
        ("loss", "loss"),
        ("server_cpu_percent", "server CPU (% of its core)"),
        ("generator_cpu_percent", "generator CPU (% of its core)"),
    ]

    func run() throws {
        let ours = try Self.load(self.ours)
        let peer = try Self.load(self.peer)
        print("| scenario | metric | Switchboard | \(self.peerName) | ratio |")
        print("|---|---|---|---|---|")
        for (mine, theirs) in zip(ours, peer) {
            var label = Self.label(of: mine)
            for (key, name) in Self.metrics {
                guard let a = Self.number(mine[key]), let b = Self.number(theirs[key]) else { continue }
                let ratio = b == 0 ? "–" : Report.format(a / b, decimals: 2) + "×"
                print("| \(label) | \(name) | \(Self.text(a)) | \(Self.text(b)) | \(ratio) |")
                label = ""
            }
        }
    }

    private static func load(_ path: String) throws -> [JSONValue] {
        guard let text = ProcessSample.read(path) else { throw ValidationError("cannot read \(path)") }
        return try text.split(separator: "\n").map { line throws in
            do {
                return try JSONParser.parse(String(line))
            } catch {
                throw ValidationError("\(path): \(error)")
            }
        }
    }

    /// `fanout max 1000 subs`, `idle 5000 conn`, `channels paced 1000 ch`.
    private static func label(of result: JSONValue) -> String {
        var parts = [result["scenario"]?.stringValue ?? "?"]
        if let mode = result["mode"]?.stringValue { parts.append(mode == "closed-loop" ? "max" : mode) }
        for (key, unit) in [("connections", "conn"), ("subscribers", "subs"), ("channels", "ch")] {
            if case .number(let count)? = result[key] { parts.append("\(count) \(unit)") }
        }
        return parts.joined(separator: " ")
    }

    private static func number(_ value: JSONValue?) -> Double? {
        guard case .number(let text)? = value else { return nil }
        return Double(text)
    }

    private static func text(_ value: Double) -> String {
        let decimals = value == value.rounded() || abs(value) >= 1000 ? 0 : abs(value) >= 10 ? 1 : 2
        return Report.format(value, decimals: decimals)
    }
}
