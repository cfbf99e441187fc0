import BrokerConfig
import BrokerCore
import NIOCore
import PusherProtocol
import ServiceLifecycleTestKit
import Testing

@testable import BrokerServer

/// The dispatcher with real timers (short ones) over a recording transport.
@Suite struct WebhookDispatcherTests {
    @Test func eventsOfOneWindowArriveInOneSignedBody() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(apps: [app], transport: transport)
        try await dispatcher.whileRunning {
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            dispatcher.record(.subscriptionCount(channel: "a", count: 1), app: app)
            dispatcher.record(.cacheMiss(channel: "cache-b"), app: app)
            #expect(await eventually { dispatcher.statistics.deliveries == 1 })
        }
        #expect(transport.requests.count == 1)
        let body = try #require(transport.bodies.first)
        #expect(
            try eventTexts(ofBody: body) == [
                #"{"name":"channel_occupied","channel":"a"}"#,
                #"{"name":"subscription_count","channel":"a","subscription_count":1}"#,
                #"{"name":"cache_miss","channel":"cache-b"}"#,
            ]
        )
        let signature = try #require(transport.requests.first?.headers.first { $0.name == "X-Pusher-Signature" })
        #expect(HMACSignature(secret: "secret-1").isValid(signature: signature.value, for: body))
    }

    @Test func manyEventsAreSplitIntoRequestsOfAtMostTheLimit() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(
            apps: [app],
            transport: transport,
            delivery: .init(maxEventsPerRequest: 100)
        )
        try await dispatcher.whileRunning {
            for index in 0..<250 {
                dispatcher.record(.cacheMiss(channel: "cache-\(index)"), app: app)
            }
            #expect(await eventually { dispatcher.statistics.deliveries == 3 })
        }
        let counts = try transport.bodies.map { try eventTexts(ofBody: $0).count }
        #expect(counts == [100, 100, 50])
        // In order across the split.
        let first = try transport.bodies.flatMap { try eventTexts(ofBody: $0) }.first
        #expect(first == #"{"name":"cache_miss","channel":"cache-0"}"#)
    }

    @Test func onlyEventsAnEndpointAskedForGoToIt() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app(webhooks: [
            WebhookConfiguration(url: "http://127.0.0.1:1/occupied", eventTypes: ["channel_occupied"]),
            WebhookConfiguration(url: "http://127.0.0.1:1/misses", eventTypes: ["cache_miss"]),
        ])
        let other = App(configuration: AppConfiguration(id: "9", key: "k9", secret: "s9"))
        let dispatcher = WebhookDispatcher.testing(apps: [app, other], transport: transport)
        try await dispatcher.whileRunning {
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            dispatcher.record(.cacheMiss(channel: "cache-b"), app: app)
            dispatcher.record(.subscriptionCount(channel: "a", count: 1), app: app)
            dispatcher.record(.channelOccupied(channel: "z"), app: other)
            #expect(await eventually { dispatcher.statistics.deliveries == 2 })
        }
        let byURL = Dictionary(uniqueKeysWithValues: transport.requests.map { ($0.url, $0) })
        let occupied = try #require(byURL["http://127.0.0.1:1/occupied"])
        let misses = try #require(byURL["http://127.0.0.1:1/misses"])
        #expect(try eventTexts(ofBody: String(decoding: occupied.body, as: UTF8.self)).count == 1)
        #expect(
            try eventTexts(ofBody: String(decoding: misses.body, as: UTF8.self))
                == [#"{"name":"cache_miss","channel":"cache-b"}"#]
        )
    }

    @Test func vacateAndReturnWithinTheHoldSendNeither() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(apps: [app], transport: transport, holdDuration: .milliseconds(300))
        try await dispatcher.whileRunning {
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            dispatcher.record(.memberAdded(channel: "presence-p", userID: "u1"), app: app)
            #expect(await eventually { dispatcher.statistics.deliveries == 1 })
            dispatcher.record(.channelVacated(channel: "a"), app: app)
            dispatcher.record(.memberRemoved(channel: "presence-p", userID: "u1"), app: app)
            try await Task.sleep(for: .milliseconds(50))
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            dispatcher.record(.memberAdded(channel: "presence-p", userID: "u1"), app: app)
            try await Task.sleep(for: .milliseconds(600))
        }
        #expect(transport.requests.count == 1)
        #expect(dispatcher.statistics.deliveries == 1)
    }

    @Test func vacateWithoutReturnIsSentAfterTheHold() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(apps: [app], transport: transport, holdDuration: .seconds(1))
        // The hold is long enough that u2's immediate delivery has left before it ends,
        // even on a loaded CI machine; a short one let all three share one request.
        let clock = ContinuousClock()
        let (elapsed, texts) = try await dispatcher.whileRunning {
            let start = clock.now
            dispatcher.record(.memberRemoved(channel: "presence-p", userID: "u1"), app: app)
            dispatcher.record(.channelVacated(channel: "presence-p"), app: app)
            // Another user's return does not cancel u1's removal.
            dispatcher.record(.memberAdded(channel: "presence-p", userID: "u2"), app: app)
            #expect(await eventually { dispatcher.statistics.deliveries == 2 })
            return (clock.now - start, try transport.bodies.map { try eventTexts(ofBody: $0) })
        }
        #expect(elapsed >= .seconds(1))
        #expect(
            texts == [
                [#"{"name":"member_added","channel":"presence-p","user_id":"u2"}"#],
                [
                    #"{"name":"member_removed","channel":"presence-p","user_id":"u1"}"#,
                    #"{"name":"channel_vacated","channel":"presence-p"}"#,
                ],
            ]
        )
    }

    @Test func eventsOverTheBoundAreDroppedAndCounted() {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(
            apps: [app],
            transport: transport,
            delivery: .init(maxPendingEvents: 3)
        )
        // Not running: nothing leaves the queue.
        for index in 0..<5 {
            dispatcher.record(.cacheMiss(channel: "cache-\(index)"), app: app)
        }
        #expect(dispatcher.statistics.dropped == 2)
    }

    @Test func failedPostsAreRetriedThenGivenUp() async throws {
        let transport = RecordingTransport(statuses: Array(repeating: 503, count: 100))
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(
            apps: [app],
            transport: transport,
            delivery: .init(initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(40), retryWindow: .milliseconds(200))
        )
        try await dispatcher.whileRunning {
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            #expect(await eventually { dispatcher.statistics.failures == 1 })
        }
        let statistics = dispatcher.statistics
        #expect(statistics.deliveries == 0)
        #expect(statistics.retries == transport.requests.count - 1)
        #expect(statistics.retries >= 4)
        // Every attempt carries the same events.
        #expect(Set(try transport.bodies.map { try eventTexts(ofBody: $0) }).count == 1)
    }

    @Test func gracefulShutdownFlushesHeldEvents() async throws {
        let transport = RecordingTransport()
        let app = WebhookTestApps.app()
        let dispatcher = WebhookDispatcher.testing(apps: [app], transport: transport, holdDuration: .seconds(60))
        try await testGracefulShutdown { trigger in
            async let run: Void = dispatcher.run()
            dispatcher.record(.channelVacated(channel: "a"), app: app)
            try await Task.sleep(for: .milliseconds(50))
            #expect(transport.requests.isEmpty)
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(
            try transport.bodies.map { try eventTexts(ofBody: $0) }
                == [[#"{"name":"channel_vacated","channel":"a"}"#]]
        )
    }
}
