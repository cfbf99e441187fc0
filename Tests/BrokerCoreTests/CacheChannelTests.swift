import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Cache channels, end to end without sockets")
struct CacheChannelTests {
    @Test("subscribing to an empty cache channel is followed by pusher:cache_miss")
    func cacheMiss() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await client.subscribe("cache-scores")
        try await harness.eventually("cache_miss") { try await client.events(named: "pusher:cache_miss").count == 1 }
        let names = try await client.events().compactMap(\.eventName)
        #expect(
            names == [
                "pusher:connection_established", "pusher_internal:subscription_succeeded", "pusher:cache_miss",
            ]
        )
        #expect(try await client.events(named: "pusher:cache_miss").first?["channel"] == .string("cache-scores"))
        await harness.shutdown()
    }

    @Test("the last published event is replayed to a new subscriber right after subscription_succeeded")
    func lastEventReplayed() async throws {
        let harness = try await BrokerHarness()
        let channel = try ChannelName(validating: "cache-scores")
        for score in ["1-0", "2-0"] {
            harness.broker.publish(
                app: harness.app,
                channel: channel,
                event: ServerEvent(event: "score", channel: channel.name, data: .string(score)),
                excluding: nil
            )
        }
        let client = try await harness.connect()
        try await client.subscribe(channel.name)
        try await harness.eventually("replay") { try await client.events(named: "score").count == 1 }
        try await harness.settle()
        let events = try await client.events()
        #expect(
            events.compactMap(\.eventName) == [
                "pusher:connection_established", "pusher_internal:subscription_succeeded", "score",
            ]
        )
        #expect(events.last?["data"] == .string("2-0"))
        await harness.shutdown()
    }

    @Test("a plain channel neither replays nor reports a cache miss")
    func plainChannelHasNoCache() async throws {
        let harness = try await BrokerHarness()
        let channel = try ChannelName(validating: "scores")
        harness.broker.publish(
            app: harness.app,
            channel: channel,
            event: ServerEvent(event: "score", channel: channel.name, data: .string("1-0")),
            excluding: nil
        )
        let client = try await harness.connect()
        try await client.subscribe(channel.name)
        try await harness.settle()
        #expect(
            try await client.events().compactMap(\.eventName) == [
                "pusher:connection_established", "pusher_internal:subscription_succeeded",
            ]
        )
        await harness.shutdown()
    }
}
