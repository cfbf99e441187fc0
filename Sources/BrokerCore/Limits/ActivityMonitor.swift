import NIOCore

/// When a connection has gone quiet, as a pure state machine the shard's sweep drives.
///
/// PROTOCOL.md, "Activity": a client silent for `activity_timeout` gets `pusher:ping`;
/// if nothing arrives within the pong timeout after that, it is closed with 4201. Any
/// frame counts as activity, as pusher-js expects.
struct ActivityMonitor {
    enum Action: Equatable {
        case none
        case sendPing
        case pongTimedOut
        case signInTimedOut
    }

    private let activityTimeout: TimeAmount
    private let pongTimeout: TimeAmount
    private let signInDeadline: NIODeadline?
    private var lastReceived: NIODeadline
    private var pingSentAt: NIODeadline?

    init(connectedAt: NIODeadline, activityTimeout: TimeAmount, pongTimeout: TimeAmount, signInTimeout: TimeAmount?) {
        self.activityTimeout = activityTimeout
        self.pongTimeout = pongTimeout
        self.signInDeadline = signInTimeout.map { connectedAt + $0 }
        self.lastReceived = connectedAt
    }

    mutating func received(at now: NIODeadline) {
        self.lastReceived = now
        self.pingSentAt = nil
    }

    mutating func check(now: NIODeadline, isSignedIn: Bool) -> Action {
        if !isSignedIn, let deadline = self.signInDeadline, now >= deadline {
            return .signInTimedOut
        }
        if let pingSentAt = self.pingSentAt {
            return now - pingSentAt >= self.pongTimeout ? .pongTimedOut : .none
        }
        guard now - self.lastReceived >= self.activityTimeout else { return .none }
        self.pingSentAt = now
        return .sendPing
    }
}
