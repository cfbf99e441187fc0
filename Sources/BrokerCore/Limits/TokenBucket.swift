public import NIOCore

/// A token bucket over a monotonic clock: `rate` tokens a second, at most `burst` saved up.
///
/// Time is passed in rather than read so tests can drive it, and tokens are refilled
/// from the elapsed time since the last refill (not counted per tick), so the rate does
/// not drift however irregularly the bucket is asked.
public struct TokenBucket: Sendable {
    private let burst: Double
    private let tokensPerNanosecond: Double
    private var tokens: Double
    private var lastRefill: NIODeadline

    public init(ratePerSecond: Int, burst: Int, now: NIODeadline) {
        self.burst = Double(burst)
        self.tokensPerNanosecond = Double(ratePerSecond) / 1e9
        self.tokens = Double(burst)
        self.lastRefill = now
    }

    /// Takes one token if there is one.
    public mutating func tryConsume(now: NIODeadline) -> Bool {
        if now > self.lastRefill {
            let elapsed = Double((now - self.lastRefill).nanoseconds)
            self.tokens = min(self.burst, self.tokens + elapsed * self.tokensPerNanosecond)
            self.lastRefill = now
        }
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }

    /// How long until one token is available; for `Retry-After`.
    public func timeUntilNextToken(now: NIODeadline) -> TimeAmount {
        let elapsed = now > self.lastRefill ? Double((now - self.lastRefill).nanoseconds) : 0
        let missing = 1 - min(self.burst, self.tokens + elapsed * self.tokensPerNanosecond)
        guard missing > 0 else { return .zero }
        return .nanoseconds(Int64((missing / self.tokensPerNanosecond).rounded(.up)))
    }
}
