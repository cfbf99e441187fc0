import NIOCore
import NIOWebSocket

/// The broker protocol a benchmark subscriber speaks inside its WebSocket: Pusher for
/// Switchboard, the NATS text protocol for nats-server (`--target`).
///
/// ``SubscriberHandler`` owns the socket (WebSocket pings, close frames, statistics);
/// a session only reads the application bytes of each data frame and says what they
/// mean. Sessions report through a callback rather than a returned array, because one
/// NATS frame can carry many messages and the callback costs no allocation per frame.
protocol SubscriberSession: Sendable {
    /// The opcode of the frames the session sends.
    static var outboundOpcode: WebSocketOpcode { get }

    /// The request path of the WebSocket upgrade.
    static func upgradePath(appKey: String) -> String

    init(channelName: String)

    /// Reads one text or binary frame's payload and reports each thing found in it.
    mutating func receive(_ payload: ByteBuffer, _ report: (SubscriberSignal) -> Void)
}

/// What a subscriber learned from the broker, in protocol-neutral terms.
enum SubscriberSignal {
    /// Text to send back (a subscribe request, an application-level pong).
    case send(String)
    /// The broker confirmed the subscription.
    case subscribed
    /// A benchmark event sent at this time on the publisher's clock.
    case delivered(sentAt: UInt64)
    /// The broker reported an error (`pusher:error`, NATS `-ERR`).
    case error
}
