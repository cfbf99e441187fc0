import NIOCore
import Testing

@testable import BrokerCore

/// Mutating calls cannot sit inside `#expect` (the macro passes its subject as a constant),
/// so each test records what the bucket answered and compares the whole sequence.
@Suite("Token bucket over an injected clock")
struct TokenBucketTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// Asks `bucket` for one token at each instant, in order.
    func answers(_ bucket: inout TokenBucket, at instants: [NIODeadline]) -> [Bool] {
        instants.map { bucket.tryConsume(now: $0) }
    }

    @Test("a full bucket allows exactly its burst at one instant")
    func burst() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 5, now: self.start)
        let answers = self.answers(&bucket, at: Array(repeating: self.start, count: 6))
        #expect(answers == [true, true, true, true, true, false])
    }

    @Test("tokens come back at the configured rate")
    func refillRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 1, now: self.start)
        let answers = self.answers(
            &bucket,
            at: [0, 99, 100, 150, 200].map { self.start + .milliseconds($0) }
        )
        #expect(answers == [true, false, true, false, true])
    }

    @Test("the time until the next token is what the rate implies")
    func timeUntilNextToken() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 2, now: self.start)
        #expect(bucket.timeUntilNextToken(now: self.start) == .zero)
        let answers = self.answers(&bucket, at: [self.start, self.start])
        #expect(answers == [true, true])
        #expect(bucket.timeUntilNextToken(now: self.start) == .milliseconds(100))
        #expect(bucket.timeUntilNextToken(now: self.start + .milliseconds(40)) == .milliseconds(60))
    }

    @Test("irregular asking neither gains nor loses tokens over ten seconds")
    func noDrift() {
        let rate = 10
        let burst = 10
        var bucket = TokenBucket(ratePerSecond: rate, burst: burst, now: self.start)
        // Irregular steps from 1 µs to ~37 ms, asking at every step.
        let steps: [Int64] = [1_000, 7_919_000, 13_000_000, 104_729, 37_000_001, 2_999_999, 211_000, 29_999_983]
        let end = self.start + .seconds(10) + .milliseconds(1)
        var instants: [NIODeadline] = []
        var now = self.start
        var index = 0
        while now < end {
            instants.append(now)
            now = min(end, now + .nanoseconds(steps[index % steps.count]))
            index += 1
        }
        instants.append(end)
        let admitted = self.answers(&bucket, at: instants).filter { $0 }.count
        #expect(instants.count > 500)
        // The burst plus rate × 10.001 s, rounded down: 10 + 100.01.
        #expect(admitted == burst + rate * 10)
    }

    @Test("a long idle period never saves up more than the burst")
    func neverExceedsBurst() {
        var bucket = TokenBucket(ratePerSecond: 100, burst: 3, now: self.start)
        let later = self.start + .hours(1)
        #expect(self.answers(&bucket, at: Array(repeating: later, count: 4)) == [true, true, true, false])
        // Asked every millisecond for 1.005 s afterwards it admits one token per 10 ms (100.5 tokens,
        // rounded down), never a second burst.
        let everyMillisecond = (1...1_005).map { later + .milliseconds(Int64($0)) }
        #expect(self.answers(&bucket, at: everyMillisecond).filter { $0 }.count == 100)
    }

    @Test("a clock that steps backwards refills nothing")
    func backwardsClock() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 1, now: self.start)
        let answers = self.answers(
            &bucket,
            at: [self.start, self.start - .seconds(5), self.start + .milliseconds(50), self.start + .milliseconds(100)]
        )
        #expect(answers == [true, false, false, true])
    }
}
