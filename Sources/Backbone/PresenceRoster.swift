import NIOCore
public import PusherProtocol

/// The members of one presence channel, counted by user id.
///
/// A user with several sockets is one member: the first socket makes them a member, the
/// last one leaving removes them (PROTOCOL.md, "presence-"). Pure value, no locking:
/// the backbone that owns it serialises access.
public struct PresenceRoster: Sendable {
    private struct Entry {
        var member: PresenceMember
        var sockets: Set<SocketID>
        let order: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var userBySocket: [SocketID: String] = [:]
    private var nextOrder: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { self.entries.isEmpty }
    public var count: Int { self.entries.count }

    /// Members in the order they first joined, so `ids` reads the same on every call.
    public var members: [PresenceMember] {
        self.entries.values.sorted { $0.order < $1.order }.map(\.member)
    }

    public mutating func add(
        socket: SocketID,
        member: PresenceMember,
        maximumMembers: Int
    ) throws(PresenceError) -> PresenceJoin {
        if let previous = self.userBySocket[socket], previous != member.userID {
            _ = self.remove(socket: socket)
        }
        let isFirst: Bool
        if var entry = self.entries[member.userID] {
            isFirst = false
            entry.sockets.insert(socket)
            // The newest signed channel_data wins, as on Pusher.
            entry.member = member
            self.entries[member.userID] = entry
        } else {
            guard self.entries.count < maximumMembers else { throw .channelFull(maximum: maximumMembers) }
            isFirst = true
            self.entries[member.userID] = Entry(member: member, sockets: [socket], order: self.nextOrder)
            self.nextOrder += 1
        }
        self.userBySocket[socket] = member.userID
        return PresenceJoin(snapshot: PresenceSnapshot(members: self.members), isFirstSocketOfUser: isFirst)
    }

    public mutating func remove(socket: SocketID) -> PresenceMember? {
        guard let userID = self.userBySocket.removeValue(forKey: socket), var entry = self.entries[userID] else {
            return nil
        }
        entry.sockets.remove(socket)
        if entry.sockets.isEmpty {
            self.entries[userID] = nil
            return entry.member
        }
        self.entries[userID] = entry
        return nil
    }
}
