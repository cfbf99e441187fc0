import ArgumentParser

/// `switchboard`: a Pusher-compatible WebSocket broker.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A Pusher-compatible WebSocket broker.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
