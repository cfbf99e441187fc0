import PusherProtocol

/// Holds the frames a room sends to a socket whose subscription is not confirmed yet.
///
/// Used while a presence join waits for the cluster roster: the socket is in the room
/// from the start, so nothing published meanwhile is lost, and the held frames are
/// written after `subscription_succeeded`, the order pusher-js needs. The wait is one
/// roster round trip, so the hold is short; it is still bounded, and a socket that
/// overflows it is closed rather than silently missing events.
final class PendingOutbound: Outbound {
    /// Far more than a roster round trip can accumulate on a healthy node.
    static let capacity = 1024

    private var frames: [OutboundFrame] = []
    /// Frames held, counting each frame of a shard's run of broadcasts.
    private var heldCount = 0
    private(set) var overflowed = false

    /// The held frames minus membership events the snapshot already reflects.
    ///
    /// A member who joined just before the roster was read is both in the snapshot and
    /// announced in the held frames; replaying the membership events in order against
    /// the snapshot's ids keeps the ones that change it and drops the ones that would
    /// announce a join or leave the client already knows about.
    func frames(consistentWith snapshot: PresenceSnapshot) -> [OutboundFrame] {
        var members = Set(snapshot.members.map(\.userID))
        return self.frames.filter { frame in
            guard let change = MembershipChange(frame) else { return true }
            switch change {
            case .added(let userID): return members.insert(userID).inserted
            case .removed(let userID): return members.remove(userID) != nil
            }
        }
    }

    func write(_ frame: OutboundFrame) {
        guard self.heldCount + frame.frameCount <= Self.capacity else {
            self.overflowed = true
            return
        }
        self.heldCount += frame.frameCount
        self.frames.append(frame)
    }

    func flush() {}

    var isFlushPending = false

    func close(code: PusherCode, reason: String) {}
}

/// Confined to the connection's event loop like the connection that owns it; rooms
/// only call it from that loop.
extension PendingOutbound: @unchecked Sendable {}

/// A `member_added` / `member_removed` frame, recognised from its JSON text.
private enum MembershipChange {
    case added(String)
    case removed(String)

    init?(_ frame: OutboundFrame) {
        guard let event = try? JSONParser.parse(bytes: frame.payload),
            let name = event["event"]?.stringValue, name.hasPrefix("pusher_internal:member_"),
            let data = event["data"]?.stringValue, let userID = (try? JSONParser.parse(data))?["user_id"]?.stringValue
        else { return nil }
        switch name {
        case "pusher_internal:member_added": self = .added(userID)
        case "pusher_internal:member_removed": self = .removed(userID)
        default: return nil
        }
    }
}
