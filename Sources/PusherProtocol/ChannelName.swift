/// A validated Pusher channel name and what its prefix means.
///
/// PROTOCOL.md, "Channels": `[A-Za-z0-9_\-=@,.;]`, at most 164 characters. The prefix
/// decides authorization (`private-`, `presence-`, `private-encrypted-`) and whether
/// the last event is kept for new subscribers (`cache-` in any of its four spellings).
/// `#server-to-user-<id>` is the one internal name with a `#`; only the user it names
/// may subscribe.
public struct ChannelName: Sendable, Hashable, CustomStringConvertible {
    public static let maximumLength = 164
    static let userChannelPrefix = "#server-to-user-"

    public enum Kind: Sendable, Hashable {
        case `public`
        case `private`
        case presence
        case privateEncrypted
        /// `#server-to-user-<id>`: events sent to one signed-in user.
        case user(id: String)
    }

    public let name: String
    public let kind: Kind
    /// Whether the channel keeps its last event and replays it on subscribe.
    public let isCache: Bool

    public var description: String { self.name }

    /// Channels that need a signature to subscribe.
    public var requiresAuthorization: Bool {
        switch self.kind {
        case .private, .presence, .privateEncrypted: return true
        case .public, .user: return false
        }
    }

    /// PROTOCOL.md: client events only on private and presence channels, never on
    /// encrypted ones (the broker cannot see their plaintext, so it cannot vouch for them).
    public var acceptsClientEvents: Bool {
        switch self.kind {
        case .private, .presence: return true
        case .public, .privateEncrypted, .user: return false
        }
    }

    public init(validating name: String) throws(ChannelNameError) {
        if name.hasPrefix(Self.userChannelPrefix) {
            let id = String(name.dropFirst(Self.userChannelPrefix.count))
            // User ids are the app's (e-mail addresses, UUIDs, names); only control
            // characters, which no id needs, are refused.
            guard !id.isEmpty, id.utf8.count <= Self.maximumLength, id.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw ChannelNameError.invalid(name)
            }
            self.init(name: name, kind: .user(id: id), isCache: false)
            return
        }
        guard !name.isEmpty else { throw ChannelNameError.empty }
        guard name.utf8.count <= Self.maximumLength else { throw ChannelNameError.tooLong(name.utf8.count) }
        guard name.utf8.allSatisfy(Self.isAllowed) else { throw ChannelNameError.invalid(name) }

        let match = Self.prefixes.first { name.hasPrefix($0.prefix) }
        self.init(name: name, kind: match?.kind ?? .public, isCache: match?.cache ?? false)
    }

    /// Longest first, so `private-encrypted-cache-` is not taken for `private-`.
    private static let prefixes: [(prefix: String, kind: Kind, cache: Bool)] = [
        ("private-encrypted-cache-", .privateEncrypted, true),
        ("private-encrypted-", .privateEncrypted, false),
        ("private-cache-", .private, true),
        ("private-", .private, false),
        ("presence-cache-", .presence, true),
        ("presence-", .presence, false),
        ("cache-", .public, true),
    ]

    /// The internal channel of one user, for send-to-user.
    public static func user(_ id: String) -> ChannelName {
        ChannelName(name: Self.userChannelPrefix + id, kind: .user(id: id), isCache: false)
    }

    private init(name: String, kind: Kind, isCache: Bool) {
        self.name = name
        self.kind = kind
        self.isCache = isCache
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: ","),
            UInt8(ascii: "."), UInt8(ascii: ";"):
            return true
        default:
            return false
        }
    }
}

public enum ChannelNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case tooLong(Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .empty: return "channel name is empty"
        case .tooLong(let length):
            return "channel name is \(length) characters, at most \(ChannelName.maximumLength) are allowed"
        case .invalid: return "channel name may only contain A-Z, a-z, 0-9, and _-=@,.;"
        }
    }
}
