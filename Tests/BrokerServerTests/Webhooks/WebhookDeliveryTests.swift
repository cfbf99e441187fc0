import BrokerConfig
import BrokerCore
import Logging
import NIOCore
import NIOHTTP1
import PusherProtocol
import Testing

@testable import BrokerServer

/// Delivery through async-http-client to a NIO receiver over a real socket.
@Suite struct WebhookDeliveryTests {
    @Test func serverErrorsAreRetriedUntilAccepted() async throws {
        let receiver = try await WebhookReceiver(statuses: [.internalServerError, .internalServerError, .ok])
        let app = WebhookTestApps.app(webhooks: [
            WebhookConfiguration(url: receiver.url, eventTypes: ["channel_occupied"])
        ])
        let dispatcher = WebhookDispatcher(
            apps: [app],
            logger: Logger(label: "webhook-test", factory: { _ in SwiftLogNoOpLogHandler() }),
            holdDuration: .milliseconds(100),
            batchWindow: .milliseconds(20),
            delivery: .init(requestTimeout: .seconds(5), initialBackoff: .milliseconds(50))
        )
        try await dispatcher.whileRunning {
            dispatcher.record(.channelOccupied(channel: "a"), app: app)
            #expect(await eventually { dispatcher.statistics.deliveries == 1 })
        }
        try await receiver.close()

        let requests = receiver.requests
        #expect(requests.count == 3)
        #expect(dispatcher.statistics.retries == 2)
        #expect(Set(try requests.map { try eventTexts(ofBody: $0.body) }).count == 1)
        for request in requests {
            #expect(request.headers["X-Pusher-Key"] == ["key-1"])
            #expect(request.headers["Content-Type"] == ["application/json"])
            let signature = try #require(request.headers["X-Pusher-Signature"].first)
            #expect(HMACSignature(secret: "secret-1").isValid(signature: signature, for: request.body))
        }
        #expect(try eventTexts(ofBody: requests[0].body) == [#"{"name":"channel_occupied","channel":"a"}"#])
    }
}
