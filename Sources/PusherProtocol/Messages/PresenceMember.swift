/// A user on a presence channel, from the `channel_data` its app server signed.
///
/// Members are identified by user id, not socket: one user with three tabs is one
/// member (PROTOCOL.md, "presence-").
public struct PresenceMember: Sendable, Equatable {
    public var userID: String
    public var userInfo: JSONValue?

    public init(userID: String, userInfo: JSONValue? = nil) {
        self.userID = userID
        self.userInfo = userInfo
    }

    /// Parses and bounds `channel_data`. Numeric ids are accepted and stringified, as
    /// Pusher does, because many apps sign integer primary keys.
    public init(channelData: String, maximumUserIDLength: Int, maximumUserInfoBytes: Int) throws(PresenceDataError) {
        guard let document = try? JSONParser.parse(channelData), document.isObject else { throw .notAnObject }
        let userID: String
        switch document["user_id"] {
        case .string(let id)?: userID = id
        case .number(let number)?: userID = number
        default: throw .missingUserID
        }
        guard !userID.isEmpty, userID.count <= maximumUserIDLength else {
            throw .userIDLength(maximum: maximumUserIDLength)
        }
        let info = document["user_info"]
        if let info, info.serialized.utf8.count > maximumUserInfoBytes {
            throw .userInfoTooLarge(maximum: maximumUserInfoBytes)
        }
        self.init(userID: userID, userInfo: info)
    }
}

public enum PresenceDataError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnObject
    case missingUserID
    case userIDLength(maximum: Int)
    case userInfoTooLarge(maximum: Int)

    public var description: String {
        switch self {
        case .notAnObject: return "channel_data must be a JSON object"
        case .missingUserID: return "channel_data must have a user_id string"
        case .userIDLength(let maximum): return "user_id must be 1 to \(maximum) characters"
        case .userInfoTooLarge(let maximum): return "user_info is larger than \(maximum) bytes"
        }
    }
}

/// The member list sent in a presence channel's `subscription_succeeded`.
public struct PresenceSnapshot: Sendable, Equatable {
    public var members: [PresenceMember]

    public init(members: [PresenceMember]) {
        self.members = members
    }

    /// `{"ids": [...], "hash": {id: info}, "count": n}`, the shape pusher-js reads.
    public var json: JSONValue {
        .object([
            ("ids", .array(self.members.map { .string($0.userID) })),
            ("hash", .object(self.members.map { ($0.userID, $0.userInfo ?? .null) })),
            ("count", .number(String(self.members.count))),
        ])
    }
}
