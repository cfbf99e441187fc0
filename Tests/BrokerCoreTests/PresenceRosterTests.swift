import Backbone
import PusherProtocol
import Testing

@Suite("Presence roster")
struct PresenceRosterTests {
    let s1 = SocketID(major: 1, minor: 1)
    let s2 = SocketID(major: 1, minor: 2)
    let s3 = SocketID(major: 1, minor: 3)

    func member(_ id: String, _ name: String? = nil) -> PresenceMember {
        PresenceMember(userID: id, userInfo: name.map { .object([("name", .string($0))]) })
    }

    @Test("members are counted by user id, not by socket")
    func countedByUser() throws {
        var roster = PresenceRoster()
        let first = try roster.add(socket: self.s1, member: self.member("u1"), maximumMembers: 10)
        #expect(first.isFirstSocketOfUser)
        let second = try roster.add(socket: self.s2, member: self.member("u1"), maximumMembers: 10)
        #expect(!second.isFirstSocketOfUser)
        #expect(second.snapshot.members.map(\.userID) == ["u1"])
        #expect(roster.count == 1)
    }

    @Test("members are listed in the order they first joined")
    func joinOrder() throws {
        var roster = PresenceRoster()
        for (socket, user) in [(self.s1, "zed"), (self.s2, "amy"), (self.s3, "mid")] {
            _ = try roster.add(socket: socket, member: self.member(user), maximumMembers: 10)
        }
        #expect(roster.members.map(\.userID) == ["zed", "amy", "mid"])
        // Leaving and coming back puts the user last.
        _ = roster.remove(socket: self.s1)
        _ = try roster.add(socket: self.s1, member: self.member("zed"), maximumMembers: 10)
        #expect(roster.members.map(\.userID) == ["amy", "mid", "zed"])
    }

    @Test("removal returns the member only when its last socket leaves")
    func removalReturnsMemberForLastSocket() throws {
        var roster = PresenceRoster()
        _ = try roster.add(socket: self.s1, member: self.member("u1", "A"), maximumMembers: 10)
        _ = try roster.add(socket: self.s2, member: self.member("u1", "A"), maximumMembers: 10)
        let removals = [self.s1, self.s1, self.s2, self.s3].map { roster.remove(socket: $0) }
        // The second removal of s1 is a no-op; s3 never joined.
        #expect(removals == [nil, nil, self.member("u1", "A"), nil])
        #expect(roster.isEmpty)
    }

    @Test("a new user over the maximum is refused, another socket of a member is not")
    func channelFull() throws {
        var roster = PresenceRoster()
        _ = try roster.add(socket: self.s1, member: self.member("u1"), maximumMembers: 1)
        var refusal: PresenceError?
        do {
            _ = try roster.add(socket: self.s2, member: self.member("u2"), maximumMembers: 1)
        } catch {
            refusal = error
        }
        #expect(refusal == .channelFull(maximum: 1))
        #expect(roster.members.map(\.userID) == ["u1"])
        let anotherTab = try roster.add(socket: self.s3, member: self.member("u1"), maximumMembers: 1)
        #expect(!anotherTab.isFirstSocketOfUser)
    }

    @Test("the newest signed user_info wins")
    func newestUserInfoWins() throws {
        var roster = PresenceRoster()
        _ = try roster.add(socket: self.s1, member: self.member("u1", "old"), maximumMembers: 10)
        _ = try roster.add(socket: self.s2, member: self.member("u1", "new"), maximumMembers: 10)
        #expect(roster.members == [self.member("u1", "new")])
    }

    @Test("a socket re-joining as another user leaves its previous user")
    func socketChangesUser() throws {
        var roster = PresenceRoster()
        _ = try roster.add(socket: self.s1, member: self.member("u1"), maximumMembers: 10)
        let join = try roster.add(socket: self.s1, member: self.member("u2"), maximumMembers: 10)
        #expect(join.isFirstSocketOfUser)
        #expect(roster.members.map(\.userID) == ["u2"])
    }
}
