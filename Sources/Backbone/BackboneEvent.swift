public import NIOCore
public import PusherProtocol

/// One event on its way to every subscriber of a channel in the cluster.
///
/// `payload` is the complete JSON text of the frame (`{"event":…}`), encoded once by the
/// publishing node; receivers wrap it into a WebSocket frame once per node.
public struct BackboneEvent: Sendable {
    public var app: String
    public var channel: String
    public var payload: ByteBuffer
    /// The publisher's own socket, skipped on every node (HTTP `socket_id`, client events).
    public var excludedSocket: SocketID?
    /// Whether the channel keeps its last event for new subscribers.
    public var isCached: Bool
    /// For `member_added` / `member_removed` from a versioned roster: the roster
    /// version the change produced. Another node's announcement can arrive after a
    /// socket's snapshot already showed it; the version tells them apart.
    public var presenceRevision: UInt64?

    public init(
        app: String,
        channel: String,
        payload: ByteBuffer,
        excludedSocket: SocketID?,
        isCached: Bool,
        presenceRevision: UInt64? = nil
    ) {
        self.app = app
        self.channel = channel
        self.payload = payload
        self.excludedSocket = excludedSocket
        self.isCached = isCached
        self.presenceRevision = presenceRevision
    }

    /// Encodes `event` once into the payload every node will frame.
    public init(
        app: String,
        channel: String,
        event: ServerEvent,
        excludedSocket: SocketID?,
        isCached: Bool,
        presenceRevision: UInt64? = nil
    ) {
        let encoded = event.encoded
        var payload = ByteBufferAllocator().buffer(capacity: encoded.count)
        payload.writeBytes(encoded)
        self.init(
            app: app, channel: channel, payload: payload, excludedSocket: excludedSocket, isCached: isCached,
            presenceRevision: presenceRevision
        )
    }
}
