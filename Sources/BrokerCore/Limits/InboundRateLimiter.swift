import BrokerConfig
import NIOCore

/// Bounds how fast one client may send frames of any kind.
///
/// A frame over the rate is dropped with a `pusher:error` (the client may just be
/// bursty); `inbound_violations_before_close` of them within ten seconds mean a flood,
/// and the connection is closed with 4301 so it cannot keep its shard busy answering.
struct InboundRateLimiter {
    enum Decision: Equatable {
        case accept
        case drop
        case close
    }

    static let violationWindow = TimeAmount.seconds(10)

    private var bucket: TokenBucket
    private let violationsBeforeClose: Int
    private var violations = 0
    private var windowStart: NIODeadline

    init(limits: Limits, now: NIODeadline) {
        self.bucket = TokenBucket(
            ratePerSecond: limits.inboundMessagesPerSecond,
            burst: limits.inboundMessagesBurst,
            now: now
        )
        self.violationsBeforeClose = limits.inboundViolationsBeforeClose
        self.windowStart = now
    }

    mutating func admit(now: NIODeadline) -> Decision {
        if self.bucket.tryConsume(now: now) { return .accept }
        if now - self.windowStart > Self.violationWindow {
            self.windowStart = now
            self.violations = 0
        }
        self.violations += 1
        return self.violations >= self.violationsBeforeClose ? .close : .drop
    }
}
