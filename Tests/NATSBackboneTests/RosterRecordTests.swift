import Backbone
import PusherProtocol
import Testing

@testable import NATSBackbone

@Suite struct RosterRecordTests {
    let alice = PresenceMember(userID: "alice", userInfo: .object([("name", .string("Alice"))]))
    let bob = PresenceMember(userID: "bob")

    @Test func firstSocketAnywhereMakesTheMemberAndLastOneAnywhereRemovesIt() throws {
        var record = RosterRecord()
        #expect(try record.add(socket: "1.1", node: "a", member: self.alice, maximumMembers: 10))
        #expect(try !record.add(socket: "2.1", node: "b", member: self.alice, maximumMembers: 10))
        #expect(record.remove(socket: "1.1", node: "a") == nil)
        #expect(record.remove(socket: "2.1", node: "b") == self.alice)
        #expect(record.members.isEmpty)
    }

    @Test func encodingRoundTripsMembersInJoinOrder() throws {
        var record = RosterRecord()
        _ = try record.add(socket: "1.1", node: "a", member: self.bob, maximumMembers: 10)
        _ = try record.add(socket: "2.1", node: "b", member: self.alice, maximumMembers: 10)
        let decoded = try RosterRecord(decoding: record.encoded)
        #expect(decoded == record)
        #expect(decoded.members.map(\.userID) == ["bob", "alice"])
        #expect(decoded.members[1].userInfo == self.alice.userInfo)
    }

    @Test func newUserBeyondTheLimitIsRefusedButAnotherSocketOfAMemberIsNot() throws {
        var record = RosterRecord()
        _ = try record.add(socket: "1.1", node: "a", member: self.alice, maximumMembers: 1)
        #expect(throws: PresenceError.channelFull(maximum: 1)) {
            try record.add(socket: "1.2", node: "a", member: self.bob, maximumMembers: 1)
        }
        #expect(try !record.add(socket: "1.3", node: "b", member: self.alice, maximumMembers: 1))
    }

    @Test func reconcileDropsDeadNodesAndReassertsLocalSockets() throws {
        var record = RosterRecord()
        _ = try record.add(socket: "1.1", node: "dead", member: self.alice, maximumMembers: 10)
        _ = try record.add(socket: "2.1", node: "live", member: self.alice, maximumMembers: 10)
        _ = try record.add(socket: "1.2", node: "dead", member: self.bob, maximumMembers: 10)
        _ = try record.add(socket: "3.1", node: "me", member: self.bob, maximumMembers: 10)
        let carol = PresenceMember(userID: "carol")
        // "me" lost bob's socket while cut off and gained carol's.
        let changes = record.reconcile(node: "me", local: ["3.9": carol], live: ["live", "me"])
        #expect(changes.removed == [self.bob])
        #expect(changes.added == [carol])
        #expect(record.members.map(\.userID) == ["alice", "carol"])
        #expect(record.entries[0].sockets == ["live": ["2.1"]])
    }

    @Test func reconcileOfAConsistentRecordChangesNothing() throws {
        var record = RosterRecord()
        _ = try record.add(socket: "3.1", node: "me", member: self.bob, maximumMembers: 10)
        let before = record
        let changes = record.reconcile(node: "me", local: ["3.1": self.bob], live: ["me"])
        #expect(changes.added.isEmpty && changes.removed.isEmpty)
        #expect(record == before)
    }

    @Test func malformedStoredValueIsAnError() {
        #expect(throws: (any Error).self) { try RosterRecord(decoding: Array(#"{"members":[{"user_id":1}]}"#.utf8)) }
    }
}
