public import PusherProtocol

/// Where a node reports the channel lifecycle events apps can receive as webhooks
/// (PROTOCOL.md, "Webhooks").
///
/// Contract: ``record(_:app:)`` is called on whatever executor observed the event (a
/// shard's event loop, a connection's actor) and must return at once without blocking;
/// the sink owns debouncing, batching and delivery. Events of one channel are recorded
/// in the order they happened on this node. Each transition is recorded once per
/// cluster: by the node that observed it.
public protocol ChannelEventSink: Sendable {
    func record(_ event: ChannelLifecycleEvent, app: App)
}

/// One webhook-worthy fact about a channel, named as Pusher names the webhook event.
public enum ChannelLifecycleEvent: Sendable, Equatable {
    /// The channel gained its first subscriber anywhere in the cluster.
    case channelOccupied(channel: String)
    /// The channel lost its last subscriber anywhere in the cluster.
    case channelVacated(channel: String)
    /// A user's first socket joined a presence channel.
    case memberAdded(channel: String, userID: String)
    /// A user's last socket left a presence channel.
    case memberRemoved(channel: String, userID: String)
    /// A client event was relayed; `data` is its JSON text as sent.
    case clientEvent(channel: String, event: String, data: String?, socketID: SocketID, userID: String?)
    /// A subscriber joined a cache channel that had no cached event.
    case cacheMiss(channel: String)
    /// The channel's subscription count on this node changed.
    case subscriptionCount(channel: String, count: Int)

    /// The Pusher webhook name, as apps list it in `event_types`.
    public var name: String {
        switch self {
        case .channelOccupied: return "channel_occupied"
        case .channelVacated: return "channel_vacated"
        case .memberAdded: return "member_added"
        case .memberRemoved: return "member_removed"
        case .clientEvent: return "client_event"
        case .cacheMiss: return "cache_miss"
        case .subscriptionCount: return "subscription_count"
        }
    }

    public var channel: String {
        switch self {
        case .channelOccupied(let channel), .channelVacated(let channel), .memberAdded(let channel, _),
            .memberRemoved(let channel, _), .clientEvent(let channel, _, _, _, _), .cacheMiss(let channel),
            .subscriptionCount(let channel, _):
            return channel
        }
    }
}
