import ArgumentParser

/// `switchboard-bench`: load generator for a Pusher-compatible broker.
///
/// Publisher and subscribers live in one process and share one monotonic clock, so
/// latency is measured end to end (HTTP API in, WebSocket out) without clock skew. Each
/// scenario prints a human-readable block and one line of JSON.
@main
struct SwitchboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-bench",
        abstract: "Benchmark a Pusher-compatible broker over real sockets.",
        subcommands: [
            IdleCommand.self, FanoutCommand.self, SlowConsumerCommand.self, ChannelsCommand.self, CompareCommand.self,
        ]
    )
}
