import Backbone
import BrokerConfig
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Presence channels, end to end without sockets")
struct PresenceChannelTests {
    let channel = "presence-room"

    func announcements(_ client: TestClient, _ name: String) async throws -> [String] {
        try await client.events(named: name).compactMap { $0.payload?["user_id"]?.stringValue }
    }

    @Test("two sockets of one user make one member_added for a third member, member_removed only after both leave")
    func membersCountedByUser() async throws {
        let harness = try await BrokerHarness()
        let observer = try await harness.connect()
        try await observer.joinPresence(self.channel, userID: "u2", harness: harness)

        let firstTab = try await harness.connect()
        try await firstTab.joinPresence(self.channel, userID: "u1", harness: harness)
        try await harness.eventually("member_added u1") {
            try await self.announcements(observer, "pusher_internal:member_added") == ["u1"]
        }

        let secondTab = try await harness.connect()
        try await secondTab.joinPresence(self.channel, userID: "u1", harness: harness)
        let snapshot = try #require(try await secondTab.events(named: "pusher_internal:subscription_succeeded").first)
        let presence = try #require(snapshot.payload?["presence"])
        #expect(presence["ids"] == .array([.string("u2"), .string("u1")]))
        #expect(presence["count"] == .number("2"))
        #expect(presence["hash"]?["u1"] == .object([("n", .string("u1"))]))

        try await firstTab.unsubscribe(self.channel)
        try await harness.settle()
        #expect(try await self.announcements(observer, "pusher_internal:member_removed").isEmpty)
        #expect(
            await harness.backbone.members(app: harness.app.id, channel: self.channel).map(\.userID) == ["u2", "u1"]
        )

        try await secondTab.disconnect()
        try await harness.eventually("member_removed u1") {
            try await self.announcements(observer, "pusher_internal:member_removed") == ["u1"]
        }
        try await harness.settle()
        #expect(try await self.announcements(observer, "pusher_internal:member_added") == ["u1"])
        #expect(try await self.announcements(observer, "pusher_internal:member_removed") == ["u1"])
        #expect(await harness.backbone.members(app: harness.app.id, channel: self.channel).map(\.userID) == ["u2"])
        await harness.shutdown()
    }

    @Test("a member does not receive its own member_added")
    func noSelfAnnouncement() async throws {
        let harness = try await BrokerHarness()
        let first = try await harness.connect()
        try await first.joinPresence(self.channel, userID: "u1", harness: harness)
        let second = try await harness.connect()
        try await second.joinPresence(self.channel, userID: "u2", harness: harness)
        try await harness.eventually("member_added u2") {
            try await self.announcements(first, "pusher_internal:member_added") == ["u2"]
        }
        try await harness.settle()
        #expect(try await self.announcements(second, "pusher_internal:member_added").isEmpty)
        await harness.shutdown()
    }

    @Test("a new user over max presence members gets subscription_error 403, an existing user's new socket does not")
    func maximumMembers() async throws {
        let limits = Limits(maxPresenceMembers: 2)
        let harness = try await BrokerHarness(app: .test(limits: limits), limits: limits)
        for user in ["u1", "u2"] {
            try await harness.connect().joinPresence(self.channel, userID: user, harness: harness)
        }
        let third = try await harness.connect()
        try await third.joinPresence(self.channel, userID: "u3", harness: harness)
        let error = try #require(try await third.events(named: "pusher:subscription_error").first)
        #expect(error["channel"] == .string(self.channel))
        #expect(error.payload?["status"] == .number("403"))
        #expect(try await third.events(named: "pusher_internal:subscription_succeeded").isEmpty)
        #expect(await harness.broker.subscriptionCount(app: harness.app, channel: self.channel) == 2)

        let anotherTab = try await harness.connect()
        try await anotherTab.joinPresence(self.channel, userID: "u1", harness: harness)
        #expect(try await anotherTab.events(named: "pusher_internal:subscription_succeeded").count == 1)
        await harness.shutdown()
    }

    @Test("presence needs channel_data signed for this socket")
    func presenceAuthorization() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        let auth = harness.app.channelAuthorization.sign(
            socketID: client.socketID,
            channel: try ChannelName(validating: self.channel),
            channelData: #"{"user_id":"u1"}"#
        )
        try await client.subscribe(self.channel, auth: auth, channelData: #"{"user_id":"admin"}"#)
        let error = try #require(try await client.events(named: "pusher:subscription_error").first)
        #expect(error.payload?["status"] == .number("401"))
        await harness.shutdown()
    }
}
