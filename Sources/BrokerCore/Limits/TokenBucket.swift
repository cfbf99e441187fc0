public import NIOCore

/// A token bucket over a monotonic clock: `rate` tokens a second, at most `burst` saved up.
///
/// Time is passed in rather than read so tests can drive it. The bucket counts in exact
/// integer units (one token is one second's worth of `rate`-per-nanosecond credit), so
/// however irregularly it is asked it neither drifts nor hands out a token late through
/// rounding.
public struct TokenBucket: Sendable {
    /// Credit units per token: a nanosecond at `rate` tokens per second earns `rate` units.
    private static let unitsPerToken: Int64 = 1_000_000_000

    private let rate: Int64
    private let capacity: Int64
    private var credit: Int64
    private var lastRefill: NIODeadline

    public init(ratePerSecond: Int, burst: Int, now: NIODeadline) {
        self.rate = Int64(max(1, ratePerSecond))
        self.capacity = Int64(burst) * Self.unitsPerToken
        self.credit = self.capacity
        self.lastRefill = now
    }

    /// Takes one token if there is one.
    public mutating func tryConsume(now: NIODeadline) -> Bool {
        self.refill(now: now)
        guard self.credit >= Self.unitsPerToken else { return false }
        self.credit -= Self.unitsPerToken
        return true
    }

    /// How long until one token is available; for `Retry-After`.
    public func timeUntilNextToken(now: NIODeadline) -> TimeAmount {
        var bucket = self
        bucket.refill(now: now)
        let missing = Self.unitsPerToken - bucket.credit
        guard missing > 0 else { return .zero }
        return .nanoseconds((missing + self.rate - 1) / self.rate)
    }

    private mutating func refill(now: NIODeadline) {
        guard now > self.lastRefill else { return }
        // Capped before multiplying, so a bucket idle for days cannot overflow.
        let elapsed = min((now - self.lastRefill).nanoseconds, self.capacity / self.rate + 1)
        self.credit = min(self.capacity, self.credit + elapsed * self.rate)
        self.lastRefill = now
    }
}
