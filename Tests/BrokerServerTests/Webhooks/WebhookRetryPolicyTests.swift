import NIOCore
import Testing

@testable import BrokerServer

@Suite struct WebhookRetryPolicyTests {
    private static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func backOffDoublesFromOneSecondToTheCapForFiveMinutes() {
        var policy = WebhookRetryPolicy(configuration: .init(), firstAttempt: Self.start)
        var now = Self.start
        var delays: [Int64] = []
        while let delay = policy.delayAfterFailure(now: now) {
            delays.append(delay.nanoseconds / 1_000_000_000)
            now = now + delay
        }
        #expect(Array(delays.prefix(8)) == [1, 2, 4, 8, 16, 32, 60, 60])
        // The last retry starts within the window; giving up happens at or after it.
        #expect(now - Self.start >= .minutes(5))
        #expect(now - Self.start < .minutes(5) + .seconds(60))
    }

    @Test func failureWarningsAreLimitedPerIntervalAndCountTheRest() {
        var log = WebhookFailureLog(interval: .seconds(10))
        #expect(log.admit(now: Self.start) == (true, 0))
        #expect(log.admit(now: Self.start + .seconds(1)) == (false, 0))
        #expect(log.admit(now: Self.start + .seconds(9)) == (false, 0))
        #expect(log.admit(now: Self.start + .seconds(10)) == (true, 2))
        #expect(log.admit(now: Self.start + .seconds(25)) == (true, 0))
    }
}
