import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

/// A shard gathers consecutive broadcasts to one room and writes them to each socket as
/// one buffer; these pin down that no socket ever sees its events out of publication
/// order, or events from before it joined, or loses them to a close.
@Suite("Broadcast runs: one write per socket, publication order kept")
struct BroadcastRunTests {
    /// Publishes `events` (channel, name, excluded socket) inside one event-loop task, so
    /// the shard sees them back to back, and lets the loop finish the writes.
    private static func publish(
        _ events: [(channel: String, name: String, excluding: SocketID?)],
        in harness: BrokerHarness,
        between: (@Sendable () -> Void)? = nil
    ) async throws {
        let broker = harness.broker
        let app = harness.app
        let named = try events.map { (try ChannelName(validating: $0.channel), $0.name, $0.excluding) }
        try await harness.loop.executeInContext {
            for (index, (channel, name, excluded)) in named.enumerated() {
                if index == named.count / 2 { between?() }
                broker.publish(
                    app: app, channel: channel,
                    event: ServerEvent(event: name, channel: channel.description, data: .string(name)),
                    excluding: excluded
                )
            }
        }
        try await harness.settle()
    }

    private static func names(_ client: TestClient, prefix: String = "e") async throws -> [String] {
        try await client.events().compactMap(\.eventName).filter { $0.hasPrefix(prefix) }
    }

    @Test("ten events to one channel reach each subscriber in one write, in order, sharing one buffer")
    func oneWritePerRun() async throws {
        let harness = try await BrokerHarness()
        let first = try await harness.connect()
        let second = try await harness.connect()
        for client in [first, second] { try await client.subscribe("news") }
        let writesBefore = try await first.writeCount()

        let events = (0..<10).map { (channel: "news", name: "e\($0)", excluding: SocketID?.none) }
        try await Self.publish(events, in: harness)

        for client in [first, second] {
            #expect(try await Self.names(client) == events.map(\.name))
        }
        #expect(try await first.writeCount() == writesBefore + 1)
        let buffers = try await [first, second].asyncMap { client in
            try await harness.loop.executeInContext { client.outbound.lastWrittenStorage }
        }
        #expect(buffers[0] == buffers[1], "both subscribers were handed the same buffer")
        await harness.shutdown()
    }

    @Test("a socket in two channels gets interleaved events in publication order")
    func interleavedChannels() async throws {
        let harness = try await BrokerHarness()
        let both = try await harness.connect()
        let onlyA = try await harness.connect()
        try await both.subscribe("a")
        try await both.subscribe("b")
        try await onlyA.subscribe("a")

        let events = ["a", "b", "a", "a", "b", "a"].enumerated().map {
            (channel: $0.element, name: "e\($0.offset)-\($0.element)", excluding: SocketID?.none)
        }
        try await Self.publish(events, in: harness)

        #expect(try await Self.names(both) == events.map(\.name))
        #expect(try await Self.names(onlyA) == events.filter { $0.channel == "a" }.map(\.name))
        await harness.shutdown()
    }

    @Test("an excluded socket misses only the events that exclude it")
    func exclusionChangesMidRun() async throws {
        let harness = try await BrokerHarness()
        let sender = try await harness.connect()
        let other = try await harness.connect()
        for client in [sender, other] { try await client.subscribe("chat") }

        let events: [(channel: String, name: String, excluding: SocketID?)] = [
            ("chat", "e0", sender.socketID), ("chat", "e1", sender.socketID), ("chat", "e2", nil),
            ("chat", "e3", sender.socketID),
        ]
        try await Self.publish(events, in: harness)

        #expect(try await Self.names(sender) == ["e2"])
        #expect(try await Self.names(other) == ["e0", "e1", "e2", "e3"])
        await harness.shutdown()
    }

    @Test("a socket that subscribes between two events gets only the later one")
    func joinMidRun() async throws {
        let harness = try await BrokerHarness()
        let early = try await harness.connect()
        let late = try await harness.connect()
        try await early.subscribe("news")
        let subscribe = Array(#"{"event":"pusher:subscribe","data":{"channel":"news"}}"#.utf8)
        let connection = late.connection
        let now = harness.loop.now

        let events = (0..<4).map { (channel: "news", name: "e\($0)", excluding: SocketID?.none) }
        try await Self.publish(events, in: harness) {
            connection.assumeIsolated { $0.receive(text: subscribe, now: now) }
        }

        #expect(try await Self.names(early) == ["e0", "e1", "e2", "e3"])
        let seen = try await late.events().compactMap(\.eventName).filter { $0 != "pusher:connection_established" }
        #expect(seen == ["pusher_internal:subscription_succeeded", "e2", "e3"])
        await harness.shutdown()
    }

    @Test("a connection closed right after a publish gets the event before pusher:error and the close")
    func closeAfterPublish() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await client.subscribe("news")
        let connection = client.connection

        try await Self.publish([("news", "e0", nil), ("news", "e1", nil)], in: harness) {
            connection.assumeIsolated { $0.close(code: .reconnectImmediately, reason: "draining") }
        }

        let seen = try await client.events().compactMap(\.eventName).suffix(2)
        #expect(Array(seen) == ["e0", "pusher:error"], "nothing after the close, nothing published before it lost")
        #expect(try await client.closeCode() == .reconnectImmediately)
        await harness.shutdown()
    }
}

extension RecordingOutbound {
    /// Where the bytes of the last write live, to tell a shared buffer from copies.
    var lastWrittenStorage: UInt? { self.lastWrite.map(ServerFrame.storageAddress) }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
