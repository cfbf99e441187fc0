public import PusherProtocol

/// The result of ``Backbone/addMember(app:channel:socket:member:maximumMembers:)``.
public struct PresenceJoin: Sendable, Equatable {
    public var snapshot: PresenceSnapshot
    public var isFirstSocketOfUser: Bool
    /// The roster version the snapshot shows, when the backbone versions its rosters:
    /// announcements of this version or older are already in the snapshot.
    public var revision: UInt64?

    public init(snapshot: PresenceSnapshot, isFirstSocketOfUser: Bool, revision: UInt64? = nil) {
        self.snapshot = snapshot
        self.isFirstSocketOfUser = isFirstSocketOfUser
        self.revision = revision
    }
}

public enum PresenceError: Error, Sendable, Equatable {
    case channelFull(maximum: Int)
    /// The cluster roster is unreachable, so the join cannot be answered truthfully.
    case unavailable
}
