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
    /// - Throws: ``PresenceError/channelFull`` when a new user would exceed `maximumMembers`,
    ///   ``PresenceError/unavailable`` when the cluster roster cannot be reached.
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

    /// This node's first subscriber joined `channel` (`hasSubscribers`), or its last one
    /// left; called in the order the node saw them, only for apps with occupancy
    /// webhooks. Returns at once. The backbone reports the channel becoming occupied or
    /// vacated across the cluster through ``BackboneReceiver/channelOccupancyChanged(app:channel:isOccupied:)``,
    /// once per cluster-wide change, whichever node saw it.
    func nodeOccupancyChanged(app: String, channel: String, hasSubscribers: Bool)

    /// Subscriptions per occupied channel of `app` whose name starts with `prefix`,
    /// summed over every node that answers within the backbone's request timeout.
    func occupiedChannels(app: String, prefix: String?) async -> [String: Int]
}
