import ArgumentParser

/// `switchboard`: a Pusher-compatible WebSocket broker.
@main
struct Switchboard: AsyncParsableCommand {
    /// Reported in the start-up log line.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A Pusher-compatible WebSocket broker.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
