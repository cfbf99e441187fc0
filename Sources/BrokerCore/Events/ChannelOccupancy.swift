import NIOConcurrencyHelpers

/// Node-wide subscriber counts per channel, across shards.
///
/// Each shard has its own room per channel, so "the channel became occupied" is a fact
/// about the node, not a shard: the first subscriber on any shard. Counting under one
/// lock gives each transition (and each count change) a single order, which is the
/// order the webhooks report them in.
final class ChannelOccupancy: Sendable {
    private let counts = NIOLockedValueBox<[RoomKey: Int]>([:])
    private let sink: (any ChannelEventSink)?

    init(sink: (any ChannelEventSink)?) {
        self.sink = sink
    }

    func subscribed(_ key: RoomKey, app: App) {
        guard let sink = self.sink else { return }
        self.counts.withLockedValue { counts in
            counts[key, default: 0] += 1
            let count = counts[key]!
            // Recorded under the lock so the sink sees transitions in the order they happened.
            if count == 1 { sink.record(.channelOccupied(channel: key.channel), app: app) }
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
            if count == 0 { sink.record(.channelVacated(channel: key.channel), app: app) }
        }
    }
}
