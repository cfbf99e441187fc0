import CoreMetrics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import Synchronization

extension WebhookDispatcher {
    /// Sends one batch until it is accepted (2xx) or given up, then frees its endpoint
    /// for the next batch. Only this endpoint waits during back-off; other endpoints'
    /// deliveries are separate tasks.
    func deliver(_ batch: WebhookBatch, transport: any WebhookTransport) async {
        let endpoint = self.endpoints[batch.endpoint]
        let app = self.apps[endpoint.appIndex]
        var policy = WebhookRetryPolicy(configuration: self.delivery, firstAttempt: .now())
        var attempts = 0
        while true {
            attempts += 1
            // Stamped and signed per attempt: Pusher SDKs' `validate_webhook` rejects a
            // `time_ms` more than five minutes old, which late retries would otherwise be.
            let request = endpoint.makeRequest(body: batch.body(timeMilliseconds: Self.unixMilliseconds()))
            let problem: String
            do {
                let status = try await transport.send(request, deadline: self.attemptDeadline())
                if (200..<300).contains(status) {
                    self.state.withLock { $0.statistics.deliveries += 1 }
                    app.deliveries.increment()
                    break
                }
                problem = "HTTP status \(status)"
            } catch {
                problem = "\(error)"
            }
            let now = NIODeadline.now()
            // No retries once draining: the flush has only seconds left.
            let draining = self.state.withLock { $0.drainDeadline != nil }
            let delay = draining || Task.isCancelled ? nil : policy.delayAfterFailure(now: now)
            guard let delay else {
                self.giveUp(batch, endpoint: endpoint, attempts: attempts, problem: problem)
                break
            }
            self.logFailure(endpoint: batch.endpoint, attempts: attempts, problem: problem, retryIn: delay, now: now)
            self.state.withLock { $0.statistics.retries += 1 }
            app.retries.increment()
            do {
                try await Task.sleep(for: .nanoseconds(delay.nanoseconds))
            } catch {
                self.giveUp(batch, endpoint: endpoint, attempts: attempts, problem: "cancelled during back-off")
                break
            }
        }
        self.state.withLock { $0.scheduler.finish(batch) }
        self.wake()
    }

    /// The deadline of one attempt: the request timeout, cut short by a drain deadline.
    private func attemptDeadline() -> NIODeadline {
        let deadline = NIODeadline.now() + self.delivery.requestTimeout
        guard let drainDeadline = self.state.withLock({ $0.drainDeadline }) else {
            return deadline
        }
        return min(deadline, drainDeadline)
    }

    /// A batch is lost: always logged, since each one is events an app never receives,
    /// and they come at most once per retry window per endpoint outside of shutdown.
    private func giveUp(_ batch: WebhookBatch, endpoint: WebhookEndpoint, attempts: Int, problem: String) {
        self.state.withLock { $0.statistics.failures += 1 }
        self.apps[endpoint.appIndex].failures.increment()
        self.logger.warning(
            "Webhook batch dropped after failed delivery",
            metadata: [
                "app.id": "\(endpoint.appID)",
                "webhook.url": "\(endpoint.url)",
                "webhook.attempts": "\(attempts)",
                "webhook.events": "\(batch.events.count)",
                "error": "\(problem)",
            ]
        )
    }

    /// One warning per failed attempt, at most one per endpoint per
    /// ``WebhookDeliveryConfiguration/failureLogInterval``; the next one says how many
    /// were left out.
    private func logFailure(endpoint index: Int, attempts: Int, problem: String, retryIn: TimeAmount, now: NIODeadline) {
        let (log, suppressed) = self.state.withLock { $0.failureLogs[index].admit(now: now) }
        guard log else {
            return
        }
        let endpoint = self.endpoints[index]
        self.logger.warning(
            "Webhook delivery failed; retrying",
            metadata: [
                "app.id": "\(endpoint.appID)",
                "webhook.url": "\(endpoint.url)",
                "webhook.attempt": "\(attempts)",
                "webhook.retry_in_ms": "\(retryIn.nanoseconds / 1_000_000)",
                "webhook.suppressed": "\(suppressed)",
                "error": "\(problem)",
            ]
        )
    }

    /// Wall-clock time for `time_ms`, which receivers compare with their own clocks.
    private static func unixMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
