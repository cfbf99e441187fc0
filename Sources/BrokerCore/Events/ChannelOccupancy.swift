import Backbone
import NIOConcurrencyHelpers

/// Node-wide subscriber counts per channel, across shards.
///
/// Each shard has its own room per channel, so "this node has subscribers" is a fact
/// about the node, not a shard: the first subscriber on any shard. Counting under one
/// lock gives each transition (and each count change) a single order, the order the
/// webhooks report them in. Whether the channel is occupied across the cluster is the
/// backbone's to decide: the node reports its own transitions to it.
final class ChannelOccupancy: Sendable {
    private let counts = NIOLockedValueBox<[RoomKey: Int]>([:])
    private let sink: (any ChannelEventSink)?
    private let backbone: any Backbone

    init(sink: (any ChannelEventSink)?, backbone: any Backbone) {
        self.sink = sink
        self.backbone = backbone
    }

    func subscribed(_ key: RoomKey, app: App) {
        guard let sink = self.sink else { return }
        self.counts.withLockedValue { counts in
            counts[key, default: 0] += 1
            let count = counts[key]!
            // Reported under the lock so the backbone and the sink see transitions in
            // the order they happened.
            if count == 1, app.tracksOccupancy {
                self.backbone.nodeOccupancyChanged(app: key.app, channel: key.channel, hasSubscribers: true)
            }
            sink.record(.subscriptionCount(channel: key.channel, count: count), app: app)
        }
    }

    func unsubscribed(_ key: RoomKey, app: App) {
        guard let sink = self.sink else { return }
        self.counts.withLockedValue { counts in
            guard let current = counts[key] else { return }
            let count = current - 1
            counts[key] = count == 0 ? nil : count
            sink.record(.subscriptionCount(channel: key.channel, count: count), app: app)
            if count == 0, app.tracksOccupancy {
                self.backbone.nodeOccupancyChanged(app: key.app, channel: key.channel, hasSubscribers: false)
            }
        }
    }
}
