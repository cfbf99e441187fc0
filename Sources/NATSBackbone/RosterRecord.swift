import Backbone
import PusherProtocol

/// The cluster-wide roster of one presence channel, as stored under its key in the
/// presence bucket: each member with the sockets that hold it, per node.
///
/// Nodes change it by compare-and-set on the key's revision, so exactly one node sees
/// a user's first socket arrive and exactly one sees the last one leave; that node
/// announces the change. Pure value: ``ClusterPresence`` does the reading and writing.
struct RosterRecord: BucketRecord {
    struct Entry: Equatable {
        var member: PresenceMember
        /// Socket ids per node id.
        var sockets: [String: [String]]
    }

    enum DecodingError: Error {
        case malformed
    }

    private(set) var entries: [Entry] = []

    init() {}

    init(decoding bytes: [UInt8]) throws {
        guard case .array(let members)? = try JSONParser.parse(bytes: bytes)["members"] else { throw DecodingError.malformed }
        self.entries = try members.map { value in
            guard let userID = value["user_id"]?.stringValue, case .object(let nodes)? = value["sockets"] else {
                throw DecodingError.malformed
            }
            var sockets: [String: [String]] = [:]
            for (node, ids) in nodes {
                guard case .array(let ids) = ids else { throw DecodingError.malformed }
                sockets[node] = ids.compactMap(\.stringValue)
            }
            return Entry(member: PresenceMember(userID: userID, userInfo: value["user_info"]), sockets: sockets)
        }
    }

    var encoded: [UInt8] {
        let members: [JSONValue] = self.entries.map { entry in
            var fields: [(key: String, value: JSONValue)] = [("user_id", .string(entry.member.userID))]
            if let info = entry.member.userInfo { fields.append(("user_info", info)) }
            let nodes = entry.sockets.keys.sorted().map { node in
                (key: node, value: JSONValue.array(entry.sockets[node]!.map(JSONValue.string)))
            }
            fields.append(("sockets", .object(nodes)))
            return .object(fields)
        }
        var output: [UInt8] = []
        JSONValue.object([("members", .array(members))]).serialize(into: &output)
        return output
    }

    /// Members in the order they first joined.
    var members: [PresenceMember] { self.entries.map(\.member) }

    /// Adds `socket` on `node` as `member`.
    /// - Returns: whether this is the user's first socket in the cluster.
    mutating func add(socket: String, node: String, member: PresenceMember, maximumMembers: Int) throws(PresenceError) -> Bool {
        if let index = self.entries.firstIndex(where: { $0.member.userID == member.userID }) {
            if !self.entries[index].sockets[node, default: []].contains(socket) {
                self.entries[index].sockets[node, default: []].append(socket)
            }
            // The newest signed channel_data wins, as on Pusher.
            self.entries[index].member = member
            return false
        }
        guard self.entries.count < maximumMembers else { throw .channelFull(maximum: maximumMembers) }
        self.entries.append(Entry(member: member, sockets: [node: [socket]]))
        return true
    }

    /// Removes `socket` of `node`.
    /// - Returns: the member when it was the user's last socket in the cluster.
    mutating func remove(socket: String, node: String) -> PresenceMember? {
        guard let index = self.entries.firstIndex(where: { $0.sockets[node]?.contains(socket) == true }) else { return nil }
        self.entries[index].sockets[node]?.removeAll { $0 == socket }
        if self.entries[index].sockets[node]?.isEmpty == true { self.entries[index].sockets[node] = nil }
        guard self.entries[index].sockets.isEmpty else { return nil }
        return self.entries.remove(at: index).member
    }

    /// Makes `node`'s sockets exactly `local` (socket id to member) and forgets every
    /// node not in `live`: what a node does after it was cut off, and what survivors
    /// do for a node whose lease expired.
    /// - Returns: users who gained their first socket and users who lost their last.
    mutating func reconcile(
        node: String,
        local: [String: PresenceMember],
        live: Set<String>
    ) -> (added: [PresenceMember], removed: [PresenceMember]) {
        var localByUser: [String: (member: PresenceMember, sockets: [String])] = [:]
        for (socket, member) in local.sorted(by: { $0.key < $1.key }) {
            localByUser[member.userID, default: (member, [])].sockets.append(socket)
        }
        var removed: [PresenceMember] = []
        var kept: [Entry] = []
        for var entry in self.entries {
            entry.sockets = entry.sockets.filter { $0.key != node && live.contains($0.key) }
            if let mine = localByUser.removeValue(forKey: entry.member.userID) {
                entry.sockets[node] = mine.sockets
            }
            if entry.sockets.isEmpty { removed.append(entry.member) } else { kept.append(entry) }
        }
        var added: [PresenceMember] = []
        for (_, mine) in localByUser.sorted(by: { $0.key < $1.key }) {
            kept.append(Entry(member: mine.member, sockets: [node: mine.sockets]))
            added.append(mine.member)
        }
        self.entries = kept
        return (added, removed)
    }
}
