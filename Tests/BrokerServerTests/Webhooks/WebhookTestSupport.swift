import BrokerConfig
import BrokerCore
import Logging
import NIOCore
import PusherProtocol
import Synchronization

@testable import BrokerServer

/// Apps with webhooks for the dispatcher tests; the receiver URL is not dialled by the
/// recording transport.
enum WebhookTestApps {
    static func app(
        id: String = "1",
        webhooks: [WebhookConfiguration] = [
            WebhookConfiguration(url: "http://127.0.0.1:1/hook", eventTypes: WebhookConfiguration.eventTypes)
        ]
    ) -> App {
        App(configuration: AppConfiguration(id: id, key: "key-\(id)", secret: "secret-\(id)", webhooks: webhooks))
    }
}

/// A ``WebhookTransport`` that keeps every request and answers from a script, so
/// dispatcher logic is tested without sockets.
final class RecordingTransport: WebhookTransport {
    private let state: Mutex<(requests: [WebhookRequest], statuses: [UInt])>

    /// - Parameter statuses: answers in order; once used up, every request gets 200.
    init(statuses: [UInt] = []) {
        self.state = Mutex(([], statuses))
    }

    var requests: [WebhookRequest] { self.state.withLock { $0.requests } }

    /// Each request's body as text, in the order they were sent.
    var bodies: [String] { self.requests.map { String(decoding: $0.body, as: UTF8.self) } }

    func send(_ request: WebhookRequest, deadline: NIODeadline) async throws -> UInt {
        self.state.withLock { state in
            state.requests.append(request)
            return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
        }
    }

    func shutdown() async throws {}
}

extension WebhookDispatcher {
    /// A dispatcher with short timings over `transport`.
    static func testing(
        apps: [App] = [WebhookTestApps.app()],
        transport: any WebhookTransport,
        holdDuration: TimeAmount = .milliseconds(200),
        batchWindow: TimeAmount = .milliseconds(20),
        delivery: WebhookDeliveryConfiguration = .init(initialBackoff: .milliseconds(20))
    ) -> WebhookDispatcher {
        WebhookDispatcher(
            apps: apps,
            logger: Logger(label: "webhook-test", factory: { _ in SwiftLogNoOpLogHandler() }),
            holdDuration: holdDuration,
            batchWindow: batchWindow,
            delivery: delivery,
            makeTransport: { transport }
        )
    }

    /// Runs the dispatcher for the duration of `body`, then cancels it and waits for
    /// it to stop, so the HTTP client is shut down before the test ends.
    func whileRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let task = Task { try await self.run() }
        do {
            let result = try await body()
            task.cancel()
            try await task.value
            return result
        } catch {
            task.cancel()
            try? await task.value
            throw error
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(5),
    _ condition: () -> Bool
) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if condition() {
            return true
        }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// The `events` of a webhook body, each re-serialized as compact JSON text, in order.
func eventTexts(ofBody body: String) throws -> [String] {
    guard case .array(let events) = try JSONParser.parse(body)["events"] else {
        return []
    }
    return events.map(\.serialized)
}
