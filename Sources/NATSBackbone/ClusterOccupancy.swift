import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Decides `channel_occupied` and `channel_vacated` for the whole cluster through the
/// occupancy bucket: a channel is occupied while any node lists itself in its
/// ``OccupancyRecord``.
///
/// Only channels of apps that asked for these webhooks are tracked (the broker reports
/// nothing else), so a cluster without them pays no key-value traffic per channel.
///
/// Every write this node makes goes through one thread, in the order the keys became
/// dirty, and asserts the node's membership as it is when the write is attempted. A
/// channel that a node joins and leaves before its write runs is therefore written
/// once, as left, and the last write for a key always reflects the node's last
/// change. Writes by different nodes are ordered by compare-and-set.
final class ClusterOccupancy: Sendable {
    /// Reports that `channel` became occupied (or vacated) across the cluster.
    typealias Announce = @Sendable (_ app: String, _ channel: String, _ isOccupied: Bool) -> Void

    private struct Queue {
        /// Keys waiting for a write, each once, oldest first. A reconcile can queue every
        /// key of the bucket, so taking the oldest must not shift the rest.
        var keys = CircularBuffer<String>()
        var queued: Set<String> = []
        var isDraining = false
        /// Live nodes from the latest lease round, applied by the writes it asked for.
        var live: Set<String>?
        var pruning: Set<String> = []
    }

    private let node: String
    private let records: RecordStore<OccupancyRecord>
    private let announce: Announce
    private let logger: Logger
    private let writer = NIOThreadPool(numberOfThreads: 1)
    /// Keys of the channels with subscribers on this node: what every write asserts.
    private let local = NIOLockedValueBox<Set<String>>([])
    /// Keys whose last write failed; written again by the next lease round.
    private let unsynced = NIOLockedValueBox<Set<String>>([])
    private let queue = NIOLockedValueBox(Queue())

    init(node: String, bucket: @escaping @Sendable () -> KeyValueBucket?, announce: @escaping Announce, logger: Logger) {
        self.node = node
        self.records = RecordStore(bucket: bucket)
        self.announce = announce
        self.logger = logger
    }

    func start() {
        self.writer.start()
    }

    func shutdown() async {
        try? await self.writer.shutdownGracefully()
    }

    /// This node's first subscriber joined the channel, or its last one left. Returns
    /// at once; the write follows on the occupancy thread.
    func nodeChanged(app: String, channel: String, hasSubscribers: Bool) {
        let key = ClusterNames.channelKey(app: app, channel: channel)
        self.local.withLockedValue { local in
            if hasSubscribers { local.insert(key) } else { local.remove(key) }
        }
        self.enqueue([key], live: nil)
    }

    /// Writes again the keys whose last write failed, and with `everything`, every key
    /// in the bucket and every channel of this node: after a node vanished (its
    /// channels must lose it) and after this node (re)connected (its own must list it).
    /// Blocks on NATS (listing the keys); runs on the lease thread.
    func reconcile(live: Set<String>, everything: Bool) {
        var keys = self.unsynced.withLockedValue { keys in
            defer { keys.removeAll() }
            return keys
        }
        if everything {
            keys.formUnion(self.local.withLockedValue { $0 })
            do {
                keys.formUnion(try self.records.bucket()?.keys() ?? [])
            } catch {
                self.logger.warning("channel occupancy not listed", metadata: ["error": "\(error)"])
            }
        }
        guard !keys.isEmpty else { return }
        var live = live
        live.insert(self.node)
        self.enqueue(keys.sorted(), live: live)
    }

    /// What a node that is leaving does last: every channel it listed loses it, and
    /// those it was the last node of are vacated. Blocks until written.
    func leave(live: Set<String>) async {
        let keys = self.local.withLockedValue { local in
            defer { local.removeAll() }
            return local
        }
        let live = live.union([self.node])
        let records = self.records
        let node = self.node
        _ = try? await self.writer.runIfActive {
            for key in keys.sorted() {
                self.write(key, records: records, node: node, live: live)
            }
        }
    }

    // MARK: - The writer

    private func enqueue(_ keys: [String], live: Set<String>?) {
        let startDrain = self.queue.withLockedValue { queue -> Bool in
            if let live {
                queue.live = live
                queue.pruning.formUnion(keys)
            }
            for key in keys where queue.queued.insert(key).inserted {
                queue.keys.append(key)
            }
            guard !queue.isDraining, !queue.keys.isEmpty else { return false }
            queue.isDraining = true
            return true
        }
        guard startDrain else { return }
        self.writer.submit { [self] _ in self.drain() }
    }

    private func drain() {
        while let (key, live) = self.next() {
            self.write(key, records: self.records, node: self.node, live: live)
        }
    }

    private func next() -> (key: String, live: Set<String>?)? {
        self.queue.withLockedValue { queue in
            guard !queue.keys.isEmpty else {
                queue.isDraining = false
                return nil
            }
            let key = queue.keys.removeFirst()
            queue.queued.remove(key)
            let live = queue.pruning.remove(key) != nil ? queue.live : nil
            return (key, live)
        }
    }

    private func write(_ key: String, records: RecordStore<OccupancyRecord>, node: String, live: Set<String>?) {
        guard let (app, channel) = ClusterNames.channel(ofKey: key) else { return }
        let change: (before: OccupancyRecord, after: OccupancyRecord, revision: UInt64)
        do {
            change = try records.update(key) { (record: inout OccupancyRecord) in
                // Read at each attempt: the last write for a key carries the node's last change.
                let hasSubscribers = self.local.withLockedValue { $0.contains(key) }
                record.assert(node: node, hasSubscribers: hasSubscribers, live: live)
            }
        } catch {
            self.unsynced.withLockedValue { _ = $0.insert(key) }
            if case .unavailable = error { return }
            self.logger.warning("channel occupancy not recorded", metadata: ["channel": "\(channel)", "error": "\(error)"])
            return
        }
        if change.before.isEmpty != change.after.isEmpty {
            self.announce(app, channel, !change.after.isEmpty)
        }
    }
}
