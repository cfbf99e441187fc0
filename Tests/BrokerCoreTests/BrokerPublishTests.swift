import Backbone
import BrokerConfig
import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Broker publishing, end to end without sockets")
struct BrokerPublishTests {
    @Test("a new connection first receives connection_established with its socket id")
    func connectionEstablished() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        let events = try await client.events()
        #expect(events.count == 1)
        #expect(events.first?.eventName == "pusher:connection_established")
        #expect(events.first?.payload?["socket_id"] == .string(client.socketID.description))
        #expect(events.first?.payload?["activity_timeout"] == .number("120"))
        await harness.shutdown()
    }

    @Test("one publish reaches every subscriber once and the excluded socket not at all, sharing one buffer")
    func fanOut() async throws {
        let harness = try await BrokerHarness()
        let subscribers = [try await harness.connect(), try await harness.connect(), try await harness.connect()]
        let bystander = try await harness.connect()
        for client in subscribers {
            try await client.subscribe("news")
            #expect(try await client.events(named: "pusher_internal:subscription_succeeded").count == 1)
        }
        let excluded = subscribers[2]
        harness.broker.publish(
            app: harness.app,
            channel: try ChannelName(validating: "news"),
            event: ServerEvent(event: "headline", channel: "news", data: .string("hello")),
            excluding: excluded.socketID
        )
        try await harness.eventually("delivery") { try await subscribers[0].events(named: "headline").count == 1 }
        try await harness.settle()

        var addresses: Set<UInt> = []
        for client in subscribers[0..<2] {
            let frames = try await client.frames().filter { try ServerFrame.json($0).eventName == "headline" }
            #expect(frames.count == 1)
            let event = try ServerFrame.json(try #require(frames.first))
            #expect(event["channel"] == .string("news"))
            #expect(event["data"] == .string("hello"))
            addresses.insert(ServerFrame.storageAddress(try #require(frames.first)))
        }
        #expect(addresses.count == 1, "both subscribers were handed the same frame storage")
        #expect(try await excluded.events(named: "headline").isEmpty)
        #expect(try await bystander.events(named: "headline").isEmpty)
        await harness.shutdown()
    }

    @Test("an unsubscribed socket no longer receives the channel's events")
    func unsubscribeStopsDelivery() async throws {
        let harness = try await BrokerHarness()
        let stays = try await harness.connect()
        let leaves = try await harness.connect()
        try await stays.subscribe("news")
        try await leaves.subscribe("news")
        try await leaves.unsubscribe("news")
        #expect(await harness.broker.subscriptionCount(app: harness.app, channel: "news") == 1)
        harness.broker.publish(
            app: harness.app,
            channel: try ChannelName(validating: "news"),
            event: ServerEvent(event: "headline", channel: "news", data: .string("x")),
            excluding: nil
        )
        try await harness.eventually("delivery") { try await stays.events(named: "headline").count == 1 }
        try await harness.settle()
        #expect(try await leaves.events(named: "headline").isEmpty)
        await harness.shutdown()
    }

    @Test("occupancy counts subscriptions per channel and forgets closed sockets")
    func occupancy() async throws {
        let harness = try await BrokerHarness()
        let first = try await harness.connect()
        let second = try await harness.connect()
        try await first.subscribe("news")
        try await second.subscribe("news")
        try await second.subscribe("sport")
        #expect(await harness.broker.occupiedChannels(app: harness.app, prefix: nil) == ["news": 2, "sport": 1])
        #expect(await harness.broker.occupiedChannels(app: harness.app, prefix: "sp") == ["sport": 1])
        #expect(await harness.broker.connectionCount() == 2)
        try await second.disconnect()
        #expect(await harness.broker.occupiedChannels(app: harness.app, prefix: nil) == ["news": 1])
        #expect(await harness.broker.connectionCount() == 1)
        await harness.shutdown()
    }

    @Test("a private channel needs this socket's signature")
    func privateChannelAuthorization() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        let other = try await harness.connect()
        // A signature for another socket is refused with 401.
        let stolen = harness.app.channelAuthorization.sign(
            socketID: other.socketID,
            channel: try ChannelName(validating: "private-chat")
        )
        try await client.subscribe("private-chat", auth: stolen)
        let error = try #require(try await client.events(named: "pusher:subscription_error").first)
        #expect(error["channel"] == .string("private-chat"))
        #expect(error.payload?["status"] == .number("401"))
        #expect(error.payload?["type"] == .string("AuthError"))
        // The right one is accepted.
        try await client.subscribeSigned("private-chat")
        #expect(try await client.events(named: "pusher_internal:subscription_succeeded").count == 1)
        await harness.shutdown()
    }

    @Test("an invalid channel name is answered with subscription_error 400")
    func invalidChannelName() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await client.subscribe("bad name")
        let error = try #require(try await client.events(named: "pusher:subscription_error").first)
        #expect(error.payload?["status"] == .number("400"))
        await harness.shutdown()
    }

    @Test("pusher:ping is answered with pusher:pong")
    func pingPong() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await client.send(text: #"{"event":"pusher:ping","data":{}}"#)
        #expect(
            try await client.events().last
                == JSONValue.object([("event", .string("pusher:pong")), ("data", .string("{}"))])
        )
        await harness.shutdown()
    }

    @Test("the app's connection quota refuses the socket over it with 4004 and frees a slot on close")
    func appConnectionQuota() async throws {
        let harness = try await BrokerHarness(app: .test(maxConnections: 1))
        let first = try await harness.connect()
        let refusal = await #expect(throws: ConnectionRefusal.self) { _ = try await harness.connect() }
        #expect(refusal?.code == .applicationOverConnectionQuota)
        try await first.disconnect()
        _ = try await harness.connect()
        await harness.shutdown()
    }

    @Test("the node's connection limit refuses the socket over it with 4100")
    func nodeConnectionLimit() async throws {
        let harness = try await BrokerHarness(limits: Limits(maxConnections: 1))
        _ = try await harness.connect()
        let refusal = await #expect(throws: ConnectionRefusal.self) { _ = try await harness.connect() }
        #expect(refusal?.code == .overCapacity)
        await harness.shutdown()
    }

    @Test("a silent connection is pinged, then closed with 4201 when it does not answer")
    func activitySweep() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        let start = harness.loop.now
        try await client.checkActivity(at: start + .seconds(119))
        #expect(try await client.events(named: "pusher:ping").isEmpty)
        try await client.checkActivity(at: start + .seconds(120))
        #expect(try await client.events(named: "pusher:ping").count == 1)
        try await client.checkActivity(at: start + .seconds(150))
        #expect(try await client.closeCode() == .pongNotReceived)
        let error = try #require(try await client.events(named: "pusher:error").last)
        #expect(error.payload?["code"] == .number("4201"))
        await harness.shutdown()
    }
}
