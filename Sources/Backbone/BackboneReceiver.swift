/// Where a backbone delivers what the cluster publishes: the node's `Broker`.
///
/// Called from whatever thread the backbone runs on; implementations hop to their own
/// executors and must not block.
public protocol BackboneReceiver: Sendable {
    func deliver(_ event: BackboneEvent)
    func terminateUser(app: String, userID: String)

    /// `channel` gained its first subscriber anywhere in the cluster, or lost its last one.
    func channelOccupancyChanged(app: String, channel: String, isOccupied: Bool)

    /// This node's own subscriptions per occupied channel, for cluster-wide queries.
    func localOccupancy(app: String, prefix: String?) async -> [String: Int]

    /// Whether the node can reach the rest of the cluster; readiness and metrics follow it.
    func backboneConnectionChanged(isConnected: Bool)

    /// Events that left this node for nowhere (the cluster was unreachable) or arrived
    /// too fast to keep; each one is lost for the subscribers it was meant for.
    func backboneDropped(events: Int)
}
