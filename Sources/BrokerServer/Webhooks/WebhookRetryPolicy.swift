import NIOCore

/// When a failed POST is tried again: after `initialBackoff`, doubling up to
/// `maxBackoff`, for as long as the first attempt is less than `retryWindow` ago.
///
/// The window is counted from the first attempt rather than as a number of tries so
/// that an endpoint that is down for a deploy gets the same minutes of grace whatever
/// its timeouts cost each attempt.
struct WebhookRetryPolicy {
    let initialBackoff: TimeAmount
    let maxBackoff: TimeAmount
    let retryWindow: TimeAmount
    let firstAttempt: NIODeadline
    private(set) var failures = 0

    init(configuration: WebhookDeliveryConfiguration, firstAttempt: NIODeadline) {
        self.initialBackoff = configuration.initialBackoff
        self.maxBackoff = configuration.maxBackoff
        self.retryWindow = configuration.retryWindow
        self.firstAttempt = firstAttempt
    }

    /// Records a failed attempt. Returns how long to wait before the next one, or `nil`
    /// when the window is spent and the batch should be given up.
    mutating func delayAfterFailure(now: NIODeadline) -> TimeAmount? {
        defer { self.failures += 1 }
        guard now - self.firstAttempt < self.retryWindow else {
            return nil
        }
        // Doubling stops once past the cap, so the shift cannot overflow.
        var delay = self.initialBackoff
        for _ in 0..<self.failures where delay < self.maxBackoff {
            delay = delay + delay
        }
        return min(delay, self.maxBackoff)
    }
}
