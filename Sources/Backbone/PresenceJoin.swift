public import PusherProtocol

/// The result of ``Backbone/addMember(app:channel:socket:member:maximumMembers:)``.
public struct PresenceJoin: Sendable, Equatable {
    public var snapshot: PresenceSnapshot
    public var isFirstSocketOfUser: Bool

    public init(snapshot: PresenceSnapshot, isFirstSocketOfUser: Bool) {
        self.snapshot = snapshot
        self.isFirstSocketOfUser = isFirstSocketOfUser
    }
}

public enum PresenceError: Error, Sendable, Equatable {
    case channelFull(maximum: Int)
    /// The cluster roster is unreachable, so the join cannot be answered truthfully.
    case unavailable
}
