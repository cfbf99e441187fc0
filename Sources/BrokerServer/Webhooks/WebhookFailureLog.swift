import NIOCore

/// Rate limit for one endpoint's failure warnings: at most one per interval, the
/// failures in between counted and reported with the next one.
struct WebhookFailureLog {
    let interval: TimeAmount
    private var lastLogged: NIODeadline?
    private var suppressed = 0

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether this failure gets a log line; when it does, how many were left out since
    /// the last one.
    mutating func admit(now: NIODeadline) -> (log: Bool, suppressed: Int) {
        if let lastLogged = self.lastLogged, now - lastLogged < self.interval {
            self.suppressed += 1
            return (false, 0)
        }
        defer { self.suppressed = 0 }
        self.lastLogged = now
        return (true, self.suppressed)
    }
}
