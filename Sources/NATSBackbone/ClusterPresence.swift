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

    private let node: String
    private let rosters: RecordStore<RosterRecord>
    private let announce: Announce
    private let logger: Logger
    /// This node's memberships: channel key, then socket id, then member.
    private let local = NIOLockedValueBox<[String: [String: PresenceMember]]>([:])
    /// Channel keys whose last write failed; reconciled on the next lease round.
    private let unsynced = NIOLockedValueBox<Set<String>>([])

    init(node: String, bucket: @escaping @Sendable () -> KeyValueBucket?, announce: @escaping Announce, logger: Logger) {
        self.node = node
        self.rosters = RecordStore(bucket: bucket)
        self.announce = announce
        self.logger = logger
    }

    func add(app: String, channel: String, socket: SocketID, member: PresenceMember, maximumMembers: Int) throws(PresenceError) -> PresenceJoin {
        let key = ClusterNames.channelKey(app: app, channel: channel)
        var isFirst = false
        let record: RosterRecord
        let revision: UInt64
        do {
            (_, record, revision) = try self.rosters.update(key) { (record: inout RosterRecord) throws(PresenceError) in
                isFirst = try record.add(socket: socket.description, node: self.node, member: member, maximumMembers: maximumMembers)
            }
        } catch .refused(let error) {
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
            (_, _, revision) = try self.rosters.update(key) { (record: inout RosterRecord) in
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
            return try self.rosters.read(key)?.record.members ?? []
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
                keys.formUnion(try self.rosters.bucket()?.keys() ?? [])
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
            (_, _, revision) = try self.rosters.update(key) { (record: inout RosterRecord) in
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
}

extension ClusterPresence {
    /// Drops every local membership, so the next reconcile removes this node's sockets
    /// from every roster: what a node that is leaving does last.
    func forgetLocalMembers() {
        self.local.withLockedValue { $0.removeAll() }
    }
}
