import Backbone
import Logging
import NIOConcurrencyHelpers
import PusherProtocol

/// Presence rosters shared by every node through the presence bucket.
///
/// Every change is a read-modify-write of the channel's ``RosterRecord`` guarded by
/// the key's revision; a lost race reads again. The node also remembers its own
/// memberships, the truth it re-asserts after being cut off from NATS, and which
/// channels' writes failed, so the next lease round repairs them.
///
/// Every method blocks on NATS and runs on the backbone's thread pool.
final class ClusterPresence: Sendable {
    /// Sends a membership change to the channel; `revision` is the roster version it made.
    typealias Announce = @Sendable (
        _ app: String, _ channel: String, _ event: ServerEvent, _ excluding: SocketID?, _ revision: UInt64
    ) -> Void

    /// Compare-and-set attempts before giving up on a channel under heavy churn.
    private static let maximumAttempts = 32

    private let node: String
    private let bucket: @Sendable () -> KeyValueBucket?
    private let announce: Announce
    private let logger: Logger
    /// This node's memberships: channel key, then socket id, then member.
    private let local = NIOLockedValueBox<[String: [String: PresenceMember]]>([:])
    /// Channel keys whose last write failed; reconciled on the next lease round.
    private let unsynced = NIOLockedValueBox<Set<String>>([])

    init(node: String, bucket: @escaping @Sendable () -> KeyValueBucket?, announce: @escaping Announce, logger: Logger) {
        self.node = node
        self.bucket = bucket
        self.announce = announce
        self.logger = logger
    }

    func add(app: String, channel: String, socket: SocketID, member: PresenceMember, maximumMembers: Int) throws(PresenceError) -> PresenceJoin {
        let key = ClusterNames.channelKey(app: app, channel: channel)
        var isFirst = false
        let record: RosterRecord
        let revision: UInt64
        do {
            (record, revision) = try self.update(key) { (record: inout RosterRecord) throws(PresenceError) in
                isFirst = try record.add(socket: socket.description, node: self.node, member: member, maximumMembers: maximumMembers)
            }
        } catch .roster(let error) {
            throw error
        } catch .unavailable {
            // The lost connection was logged once; each refused join is counted instead.
            throw .unavailable
        } catch {
            self.logger.warning("presence join failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw .unavailable
        }
        self.local.withLockedValue { $0[key, default: [:]][socket.description] = member }
        if isFirst {
            self.announce(app, channel, .memberAdded(channel: channel, member: member), socket, revision)
        }
        return PresenceJoin(snapshot: PresenceSnapshot(members: record.members), isFirstSocketOfUser: isFirst, revision: revision)
    }

    func remove(app: String, channel: String, socket: SocketID) -> PresenceMember? {
        let key = ClusterNames.channelKey(app: app, channel: channel)
        self.local.withLockedValue { local in
            local[key]?[socket.description] = nil
            if local[key]?.isEmpty == true { local[key] = nil }
        }
        var removed: PresenceMember?
        let revision: UInt64
        do {
            (_, revision) = try self.update(key) { (record: inout RosterRecord) throws(PresenceError) in
                removed = record.remove(socket: socket.description, node: self.node)
            }
        } catch {
            self.unsynced.withLockedValue { _ = $0.insert(key) }
            if case .unavailable = error { return nil }
            self.logger.warning(
                "presence leave not recorded yet; repaired on the next lease round",
                metadata: ["channel": "\(channel)", "error": "\(error)"]
            )
            return nil
        }
        if let removed {
            self.announce(app, channel, .memberRemoved(channel: channel, userID: removed.userID), nil, revision)
        }
        return removed
    }

    func members(app: String, channel: String) -> [PresenceMember] {
        let key = ClusterNames.channelKey(app: app, channel: channel)
        do {
            return try self.read(key)?.record.members ?? []
        } catch {
            if case .unavailable = error { return [] }
            self.logger.warning("presence roster unreadable", metadata: ["channel": "\(channel)", "error": "\(error)"])
            return []
        }
    }

    /// Brings every roster in line with `live` nodes and this node's own memberships.
    /// - Parameter everything: all rosters in the bucket (after a node was lost or this
    ///   node reconnected) rather than only those whose last write failed.
    func reconcile(live: Set<String>, everything: Bool) {
        var live = live
        live.insert(self.node)
        var keys = self.unsynced.withLockedValue { keys in
            defer { keys.removeAll() }
            return keys
        }
        if everything {
            keys.formUnion(self.local.withLockedValue { Set($0.keys) })
            do {
                keys.formUnion(try self.bucket()?.keys() ?? [])
            } catch {
                self.logger.warning("presence rosters not listed", metadata: ["error": "\(error)"])
            }
        }
        for key in keys {
            self.reconcile(key, live: live)
        }
    }

    private func reconcile(_ key: String, live: Set<String>) {
        guard let (app, channel) = ClusterNames.channel(ofKey: key) else { return }
        let local = self.local.withLockedValue { $0[key] ?? [:] }
        var changes: (added: [PresenceMember], removed: [PresenceMember]) = ([], [])
        let revision: UInt64
        do {
            (_, revision) = try self.update(key) { (record: inout RosterRecord) throws(PresenceError) in
                changes = record.reconcile(node: self.node, local: local, live: live)
            }
        } catch {
            self.unsynced.withLockedValue { _ = $0.insert(key) }
            self.logger.warning("presence roster not reconciled", metadata: ["channel": "\(channel)", "error": "\(error)"])
            return
        }
        for member in changes.removed {
            self.announce(app, channel, .memberRemoved(channel: channel, userID: member.userID), nil, revision)
        }
        for member in changes.added {
            self.announce(app, channel, .memberAdded(channel: channel, member: member), nil, revision)
        }
        if !changes.removed.isEmpty || !changes.added.isEmpty {
            self.logger.info(
                "presence roster reconciled",
                metadata: ["channel": "\(channel)", "removed": "\(changes.removed.count)", "added": "\(changes.added.count)"]
            )
        }
    }

    // MARK: - Compare-and-set

    enum UpdateError: Error, CustomStringConvertible {
        case roster(PresenceError)
        case unavailable
        case nats(NATSError)
        case contended
        case malformed

        var description: String {
            switch self {
            case .roster(let error): "\(error)"
            case .unavailable: "not connected to NATS"
            case .nats(let error): error.description
            case .contended: "too many concurrent changes"
            case .malformed: "stored roster is not a roster"
            }
        }
    }

    private func read(_ key: String) throws(UpdateError) -> (record: RosterRecord, revision: UInt64)? {
        guard let bucket = self.bucket() else { throw .unavailable }
        let entry: KeyValueBucket.Entry?
        do {
            entry = try bucket.get(key)
        } catch {
            throw .nats(error)
        }
        guard let entry else { return nil }
        do {
            return (try RosterRecord(decoding: entry.value), entry.revision)
        } catch {
            throw .malformed
        }
    }

    /// Applies `change` to the current record and writes it back if nobody wrote in
    /// between; otherwise reads again. An unchanged record is not written.
    /// - Returns: the record and its revision after the change.
    private func update(
        _ key: String,
        _ change: (inout RosterRecord) throws(PresenceError) -> Void
    ) throws(UpdateError) -> (record: RosterRecord, revision: UInt64) {
        guard let bucket = self.bucket() else { throw .unavailable }
        for _ in 0..<Self.maximumAttempts {
            let current = try self.read(key)
            var record = current?.record ?? RosterRecord()
            do {
                try change(&record)
            } catch {
                throw .roster(error)
            }
            guard record != (current?.record ?? RosterRecord()) else { return (record, current?.revision ?? 0) }
            do {
                return (record, try bucket.write(key, record.encoded, ifRevision: current?.revision ?? 0))
            } catch {
                switch error {
                case .conflict: continue
                case .failed(let error): throw .nats(error)
                }
            }
        }
        throw .contended
    }
}

extension ClusterPresence {
    /// Drops every local membership, so the next reconcile removes this node's sockets
    /// from every roster: what a node that is leaving does last.
    func forgetLocalMembers() {
        self.local.withLockedValue { $0.removeAll() }
    }
}
