import BrokerConfig
import NIOCore
import Testing

@testable import BrokerCore

@Suite("Activity monitor")
struct ActivityMonitorTests {
    typealias Action = ActivityMonitor.Action

    let connectedAt = NIODeadline.uptimeNanoseconds(5_000_000_000)

    func monitor(signInTimeout: TimeAmount? = nil) -> ActivityMonitor {
        ActivityMonitor(
            connectedAt: self.connectedAt,
            activityTimeout: .seconds(120),
            pongTimeout: .seconds(30),
            signInTimeout: signInTimeout
        )
    }

    /// Runs the sweep's check at each of `seconds` after connecting. (Mutating calls cannot sit
    /// inside `#expect`, so the tests compare the whole sequence of answers.)
    func checks(_ monitor: inout ActivityMonitor, at seconds: [Int64], isSignedIn: Bool = false) -> [Action] {
        seconds.map { monitor.check(now: self.connectedAt + .seconds($0), isSignedIn: isSignedIn) }
    }

    @Test("a silent client gets one ping once the activity timeout has passed")
    func pingAfterActivityTimeout() {
        var monitor = self.monitor()
        #expect(self.checks(&monitor, at: [119, 120, 121]) == [.none, .sendPing, .none])
    }

    @Test("no answer within the pong timeout after the ping times out")
    func pongTimeout() {
        var monitor = self.monitor()
        #expect(self.checks(&monitor, at: [120, 149, 150]) == [.sendPing, .none, .pongTimedOut])
    }

    @Test("any frame after the ping cancels the pong timeout")
    func answerCancelsPongTimeout() {
        var monitor = self.monitor()
        #expect(self.checks(&monitor, at: [120]) == [.sendPing])
        monitor.received(at: self.connectedAt + .seconds(130))
        #expect(self.checks(&monitor, at: [150, 249, 250]) == [.none, .none, .sendPing])
    }

    @Test("activity pushes the next ping back by a full timeout")
    func activityResets() {
        var monitor = self.monitor()
        monitor.received(at: self.connectedAt + .seconds(100))
        #expect(self.checks(&monitor, at: [120, 219, 220]) == [.none, .none, .sendPing])
    }

    @Test("a socket not signed in by the sign-in timeout is timed out")
    func signInTimeout() {
        var monitor = self.monitor(signInTimeout: .seconds(5))
        #expect(self.checks(&monitor, at: [4, 5]) == [.none, .signInTimedOut])
    }

    @Test("a signed-in socket is not held to the sign-in timeout, and activity does not extend it")
    func signInTimeoutOnlyWhenNotSignedIn() {
        var signedIn = self.monitor(signInTimeout: .seconds(5))
        #expect(self.checks(&signedIn, at: [60], isSignedIn: true) == [.none])
        var chatty = self.monitor(signInTimeout: .seconds(5))
        chatty.received(at: self.connectedAt + .seconds(4))
        #expect(self.checks(&chatty, at: [5]) == [.signInTimedOut])
    }

    @Test("without a sign-in timeout an anonymous socket is only pinged")
    func noSignInTimeout() {
        var monitor = self.monitor()
        #expect(self.checks(&monitor, at: [60, 120]) == [.none, .sendPing])
    }
}

@Suite("Inbound rate limiter")
struct InboundRateLimiterTests {
    typealias Decision = InboundRateLimiter.Decision

    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let limits = Limits(inboundMessagesPerSecond: 10, inboundMessagesBurst: 2, inboundViolationsBeforeClose: 3)

    func decisions(_ limiter: inout InboundRateLimiter, count: Int, at now: NIODeadline) -> [Decision] {
        (0..<count).map { _ in limiter.admit(now: now) }
    }

    @Test("frames within the burst are accepted, the next are dropped, and repeated violations close")
    func dropThenClose() {
        var limiter = InboundRateLimiter(limits: self.limits, now: self.start)
        #expect(self.decisions(&limiter, count: 5, at: self.start) == [.accept, .accept, .drop, .drop, .close])
    }

    @Test("violations older than ten seconds are forgotten")
    func violationWindow() {
        var limiter = InboundRateLimiter(limits: self.limits, now: self.start)
        #expect(self.decisions(&limiter, count: 4, at: self.start) == [.accept, .accept, .drop, .drop])
        let later = self.start + .seconds(11)
        #expect(self.decisions(&limiter, count: 5, at: later) == [.accept, .accept, .drop, .drop, .close])
    }
}
