public import NIOCore
public import PusherProtocol

/// How a node shares events and presence with the rest of the cluster (DESIGN.md, "Backbone").
///
/// Contract:
/// - ``start(receiver:)`` is called once, before any other method; from then on the backbone
///   hands every event published anywhere in the cluster for a channel this node has
///   joined to `receiver`, including the node's own publishes, exactly once and in publish
///   order per channel per publishing node.
/// - ``join(app:channel:)`` / ``leave(app:channel:)`` declare interest. A node joins a channel
///   while it has at least one local subscriber; events for channels nobody joined cost the
///   publisher one send and no node any work.
/// - ``publish(_:)`` never blocks and never throws: an event that cannot be forwarded is
///   counted by the implementation, not reported to the publisher.
/// - Presence and cache state are cluster-wide: whatever node a member joined on,
///   ``members(app:channel:)`` lists it.
/// - ``shutdown()`` returns once the backbone has stopped delivering to the receiver.
public protocol Backbone: Sendable {
    func start(receiver: any BackboneReceiver) async throws
    func shutdown() async

    func join(app: String, channel: String)
    func leave(app: String, channel: String)
    func publish(_ event: BackboneEvent)

    /// Closes every socket of `userID` on every node (the app's `terminate_connections`).
    func terminateUser(app: String, userID: String)

    /// The last event published on a cache channel within ``CachePolicy/timeToLive``, if any.
    func lastEvent(app: String, channel: String) async -> CachedEvent?

    /// Records `socket` as one of `member`'s sockets on `channel`. When this is the user's
    /// first socket, the backbone itself announces `pusher_internal:member_added` to the
    /// channel (skipping `socket`), ordered with every other membership change of the
    /// channel: a subscriber whose snapshot already lists the user can recognise the
    /// announcement as old, and one whose snapshot does not will still receive it.
    /// - Returns: the roster after the join, and whether this was the user's first socket.
    /// - Throws: ``PresenceError/channelFull`` when a new user would exceed `maximumMembers`.
    func addMember(
        app: String,
        channel: String,
        socket: SocketID,
        member: PresenceMember,
        maximumMembers: Int
    ) async throws(PresenceError) -> PresenceJoin

    /// Forgets `socket` on `channel`; when it was the user's last socket, announces
    /// `pusher_internal:member_removed` in the same order as ``addMember``.
    /// - Returns: the member when this was the user's last socket, otherwise `nil`.
    func removeMember(app: String, channel: String, socket: SocketID) async -> PresenceMember?

    /// Every member of a presence channel, in join order.
    func members(app: String, channel: String) async -> [PresenceMember]
}

/// Where a backbone delivers what the cluster publishes: the node's `Broker`.
///
/// Called from whatever thread the backbone runs on; implementations hop to their own
/// executors and must not block.
public protocol BackboneReceiver: Sendable {
    func deliver(_ event: BackboneEvent)
    func terminateUser(app: String, userID: String)
}

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

    public init(app: String, channel: String, payload: ByteBuffer, excludedSocket: SocketID?, isCached: Bool) {
        self.app = app
        self.channel = channel
        self.payload = payload
        self.excludedSocket = excludedSocket
        self.isCached = isCached
    }

    /// Encodes `event` once into the payload every node will frame.
    public init(app: String, channel: String, event: ServerEvent, excludedSocket: SocketID?, isCached: Bool) {
        let encoded = event.encoded
        var payload = ByteBufferAllocator().buffer(capacity: encoded.count)
        payload.writeBytes(encoded)
        self.init(app: app, channel: channel, payload: payload, excludedSocket: excludedSocket, isCached: isCached)
    }
}

/// The result of ``Backbone/addMember(app:channel:socket:member:maximumMembers:)``.
public struct PresenceJoin: Sendable, Equatable {
    public var snapshot: PresenceSnapshot
    public var isFirstSocketOfUser: Bool

    public init(snapshot: PresenceSnapshot, isFirstSocketOfUser: Bool) {
        self.snapshot = snapshot
        self.isFirstSocketOfUser = isFirstSocketOfUser
    }
}

public enum PresenceError: Error, Sendable, Equatable {
    case channelFull(maximum: Int)
}

/// The last event of a cache channel and how much longer it is kept.
public struct CachedEvent: Sendable {
    /// The JSON text of the frame, as published.
    public var payload: ByteBuffer
    public var timeToLive: TimeAmount

    public init(payload: ByteBuffer, timeToLive: TimeAmount) {
        self.payload = payload
        self.timeToLive = timeToLive
    }
}

/// How long cache channels keep their last event: Pusher documents 30 minutes.
public enum CachePolicy {
    public static let timeToLive = TimeAmount.minutes(30)
}
