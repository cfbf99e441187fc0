import CoreMetrics
import NIOCore
import PusherProtocol

/// The subscribers of one channel of one app on one shard.
///
/// Each shard keeps its own room per channel, holding only connections accepted on its
/// event loop, so a broadcast writes to sockets on the executor it already runs on:
/// no hop per subscriber, no `await` per delivery (DESIGN.md, "The actor hierarchy").
/// Cluster-wide state of the channel (presence roster, cache slot) lives in the backbone.
actor Room {
    private struct Subscriber {
        let outbound: any Outbound
        /// The presence roster version of the socket's snapshot (0: none); older
        /// membership announcements are already in it.
        let presenceRevision: UInt64
    }

    nonisolated let key: RoomKey
    private nonisolated let executor: any SerialExecutor
    private nonisolated let flushes: FlushQueue
    private nonisolated let metrics: AppMetrics
    private var subscribers = SmallDictionary<SocketID, Subscriber>()

    nonisolated var unownedExecutor: UnownedSerialExecutor { self.executor.asUnownedSerialExecutor() }

    init(key: RoomKey, executor: any SerialExecutor, flushes: FlushQueue, metrics: AppMetrics) {
        self.key = key
        self.executor = executor
        self.flushes = flushes
        self.metrics = metrics
    }

    var count: Int { self.subscribers.count }
    var isEmpty: Bool { self.subscribers.isEmpty }

    /// Adds the socket, or points it at a new outbound when it is already here (a
    /// presence join swapping its pending holder for the socket).
    /// - Returns: whether the socket is new to the room.
    @discardableResult
    func add(_ socketID: SocketID, outbound: any Outbound, presenceRevision: UInt64 = 0) -> Bool {
        let subscriber = Subscriber(outbound: outbound, presenceRevision: presenceRevision)
        return self.subscribers.updateValue(subscriber, forKey: socketID) == nil
    }

    /// - Returns: whether the socket was in the room.
    @discardableResult
    func remove(_ socketID: SocketID) -> Bool {
        self.subscribers.removeValue(forKey: socketID) != nil
    }

    /// Writes the same frame buffer (one or several frames) to every subscriber but
    /// `excluded`; the shard's flush queue hands them to the kernel once per batch.
    func broadcast(_ frame: OutboundFrame, excluding excluded: SocketID?) {
        for (socketID, subscriber) in self.subscribers.entries where socketID != excluded {
            subscriber.outbound.write(frame)
            self.flushes.flushSoon(subscriber.outbound)
        }
        // Counted once per broadcast, not per delivery: one atomic add on the hot path.
        let delivered = self.subscribers.count - (excluded.flatMap { self.subscribers[$0] } == nil ? 0 : 1)
        self.metrics.messagesOut.increment(by: Int64(delivered * frame.frameCount))
        self.metrics.bytesOut.increment(by: Int64(delivered * frame.payloadByteCount))
    }

    /// A membership change of a versioned presence roster: written to every subscriber
    /// whose snapshot predates it. Another node's announcement can arrive after a
    /// socket joined with a snapshot that already showed the change.
    func announce(_ frame: OutboundFrame, excluding excluded: SocketID?, revision: UInt64) {
        for (socketID, subscriber) in self.subscribers.entries
        where socketID != excluded && subscriber.presenceRevision < revision {
            subscriber.outbound.write(frame)
            subscriber.outbound.flush()
        }
    }
}

/// A channel of an app: rooms and routing are keyed by both, since channel names are
/// only unique within an app.
struct RoomKey: Hashable, Sendable {
    var app: String
    var channel: String
}
