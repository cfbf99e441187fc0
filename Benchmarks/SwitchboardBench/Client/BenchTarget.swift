import ArgumentParser

/// The broker under test (`--target`), and with it the protocol both sides speak.
enum BenchTarget: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Switchboard, or any Pusher-compatible broker: Pusher over WebSocket, events
    /// published through the signed HTTP API on the same port.
    case pusher
    /// nats-server's WebSocket listener: the NATS text protocol over WebSocket, events
    /// published on a plain NATS client connection (`--publish-url`).
    case nats
}
