public import NIOCore

/// How webhooks are delivered: per-request timeout, retry schedule and the bounds that
/// keep an unreachable endpoint from costing unbounded memory or shutdown time.
/// Defaults follow the issue: 10 s per request, back-off from 1 s to 60 s for at least
/// 5 minutes, at most 10,000 events waiting on the node and 100 per POST.
public struct WebhookDeliveryConfiguration: Sendable {
    /// Time one POST has from connecting to the end of the response.
    public var requestTimeout: TimeAmount
    /// Wait before the first retry; each later wait doubles.
    public var initialBackoff: TimeAmount
    /// Longest wait between two attempts.
    public var maxBackoff: TimeAmount
    /// How long after its first attempt a batch is still retried; after it the batch is
    /// dropped and counted in `switchboard_webhook_failures_total`.
    public var retryWindow: TimeAmount
    /// Event copies (one per endpoint) held, queued or being delivered across the node;
    /// above it new events are dropped and counted in `switchboard_webhook_dropped_total`.
    public var maxPendingEvents: Int
    /// Events in one POST; more go in the next one.
    public var maxEventsPerRequest: Int
    /// How long a graceful shutdown waits for the last batches before abandoning them.
    public var shutdownFlushTimeout: TimeAmount
    /// Shortest gap between two failure warnings for one endpoint; the failures in
    /// between are counted in the next warning, so a dead endpoint cannot flood the log.
    public var failureLogInterval: TimeAmount

    public init(
        requestTimeout: TimeAmount = .seconds(10),
        initialBackoff: TimeAmount = .seconds(1),
        maxBackoff: TimeAmount = .seconds(60),
        retryWindow: TimeAmount = .minutes(5),
        maxPendingEvents: Int = 10_000,
        maxEventsPerRequest: Int = 100,
        shutdownFlushTimeout: TimeAmount = .seconds(2),
        failureLogInterval: TimeAmount = .seconds(10)
    ) {
        precondition(maxEventsPerRequest > 0 && maxPendingEvents > 0, "webhook bounds must be positive")
        self.requestTimeout = requestTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.retryWindow = retryWindow
        self.maxPendingEvents = maxPendingEvents
        self.maxEventsPerRequest = maxEventsPerRequest
        self.shutdownFlushTimeout = shutdownFlushTimeout
        self.failureLogInterval = failureLogInterval
    }
}
