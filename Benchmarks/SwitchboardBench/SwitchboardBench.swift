import ArgumentParser

/// `switchboard-bench`: load generator for a Pusher-compatible broker, and for
/// nats-server's WebSocket listener, the peer DESIGN.md compares against (`--target nats`).
///
/// Publisher and subscribers live in one process and share one monotonic clock, so
/// latency is measured end to end (publish in, WebSocket out) without clock skew. Each
/// scenario prints a human-readable block and one line of JSON; `compare` sets two runs'
/// lines side by side.
@main
struct SwitchboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-bench",
        abstract: "Benchmark a Pusher-compatible broker, or nats-server, over real sockets.",
        subcommands: [
            IdleCommand.self, FanoutCommand.self, SlowConsumerCommand.self, ChannelsCommand.self, CompareCommand.self,
        ]
    )
}
