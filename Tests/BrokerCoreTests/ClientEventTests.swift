import BrokerConfig
import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Client events, end to end without sockets")
struct ClientEventTests {
    @Test("a client event reaches the other subscribers with its data verbatim and is not echoed")
    func relayedNotEchoed() async throws {
        let harness = try await BrokerHarness()
        let sender = try await harness.connect()
        let receiver = try await harness.connect()
        for client in [sender, receiver] { try await client.subscribeSigned("private-chat") }
        try await sender.send(text: #"{"event":"client-typing","channel":"private-chat","data":{"b":1.50,"a":"x"}}"#)
        let frames = try await receiver.frames()
        let relayed = try #require(frames.last)
        #expect(
            ServerFrame.payload(of: relayed)
                == Array(#"{"event":"client-typing","channel":"private-chat","data":{"b":1.50,"a":"x"}}"#.utf8)
        )
        #expect(try await sender.events(named: "client-typing").isEmpty)
        #expect(try await sender.events(named: "pusher:error").isEmpty)
        await harness.shutdown()
    }

    @Test("on a presence channel the relayed event names its sender's user_id")
    func presenceAddsUserID() async throws {
        let harness = try await BrokerHarness()
        let sender = try await harness.connect()
        let receiver = try await harness.connect()
        try await sender.joinPresence("presence-room", userID: "alice", harness: harness)
        try await receiver.joinPresence("presence-room", userID: "bob", harness: harness)
        try await sender.clientEvent("client-wave", channel: "presence-room", data: .object([("hi", .bool(true))]))
        let relayed = try #require(try await receiver.events(named: "client-wave").first)
        #expect(relayed["user_id"] == .string("alice"))
        #expect(relayed["data"] == .object([("hi", .bool(true))]))
        await harness.shutdown()
    }

    @Test("client events are refused with 4301 when the app does not enable them")
    func refusedWhenDisabled() async throws {
        let harness = try await BrokerHarness(app: .test(clientEvents: false))
        let sender = try await harness.connect()
        let receiver = try await harness.connect()
        for client in [sender, receiver] { try await client.subscribeSigned("private-chat") }
        try await sender.clientEvent("client-typing", channel: "private-chat", data: .object([]))
        let error = try #require(try await sender.events(named: "pusher:error").first)
        #expect(error.payload?["code"] == .number("4301"))
        try await harness.settle()
        #expect(try await receiver.events(named: "client-typing").isEmpty)
        #expect(try await sender.closeCode() == nil, "a refused client event leaves the connection open")
        await harness.shutdown()
    }

    @Test("client events on public or encrypted channels, or unsubscribed ones, are refused with 4301")
    func refusedOnWrongChannels() async throws {
        let harness = try await BrokerHarness()
        let sender = try await harness.connect()
        try await sender.subscribe("news")
        try await sender.subscribeSigned("private-encrypted-vault")
        for channel in ["news", "private-encrypted-vault", "private-not-subscribed"] {
            try await sender.clientEvent("client-x", channel: channel, data: .object([]))
        }
        let errors = try await sender.events(named: "pusher:error")
        #expect(errors.count == 3)
        #expect(errors.allSatisfy { $0.payload?["code"] == .number("4301") })
        await harness.shutdown()
    }

    @Test("past the client event rate the sender gets 4301 and the excess is not relayed")
    func rateLimit() async throws {
        let harness = try await BrokerHarness()
        let sender = try await harness.connect()
        let receiver = try await harness.connect()
        for client in [sender, receiver] { try await client.subscribeSigned("private-chat") }
        let now = harness.loop.now
        for index in 0..<11 {
            try await sender.clientEvent("client-n", channel: "private-chat", data: .number(String(index)), at: now)
        }
        #expect(try await receiver.events(named: "client-n").count == 10)
        let errors = try await sender.events(named: "pusher:error")
        #expect(errors.count == 1)
        #expect(errors.first?.payload?["code"] == .number("4301"))
        // A second later the bucket has refilled.
        try await sender.clientEvent("client-n", channel: "private-chat", data: .number("11"), at: now + .seconds(1))
        #expect(try await receiver.events(named: "client-n").count == 11)
        await harness.shutdown()
    }
}
