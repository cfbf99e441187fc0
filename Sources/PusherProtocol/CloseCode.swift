/// Pusher's WebSocket close codes and `pusher:error` codes (PROTOCOL.md, "Close codes").
///
/// The ranges tell pusher-js what to do next: 4000–4099 never reconnect, 4100–4199
/// reconnect after a back-off, 4200–4299 reconnect at once, 4300–4399 are errors that
/// leave the connection open. Choosing the wrong range turns a refusal into a
/// reconnect storm, so every code the broker sends is named here.
public struct PusherCode: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The app key in the path names no app.
    public static let applicationDoesNotExist = PusherCode(rawValue: 4001)
    /// The app exists but is disabled in the config.
    public static let applicationDisabled = PusherCode(rawValue: 4003)
    /// The app is over its connection quota.
    public static let applicationOverConnectionQuota = PusherCode(rawValue: 4004)
    /// The request path is not `/app/{key}`.
    public static let pathNotFound = PusherCode(rawValue: 4005)
    /// `protocol` is present but not a number.
    public static let invalidVersionString = PusherCode(rawValue: 4006)
    /// `protocol` names a version this broker does not speak.
    public static let unsupportedProtocolVersion = PusherCode(rawValue: 4007)
    /// `protocol` is missing.
    public static let noProtocolVersion = PusherCode(rawValue: 4008)
    /// Sign-in failed, sign-in did not happen in time, or the app terminated the user.
    public static let unauthorized = PusherCode(rawValue: 4009)
    /// Over capacity or too slow to keep up: reconnect after a back-off.
    public static let overCapacity = PusherCode(rawValue: 4100)
    /// Generic reconnect-now, used when draining a node.
    public static let reconnectImmediately = PusherCode(rawValue: 4200)
    /// The client did not answer the server's ping.
    public static let pongNotReceived = PusherCode(rawValue: 4201)
    /// Closed for inactivity.
    public static let closedForInactivity = PusherCode(rawValue: 4202)
    /// A client event was refused: rate limit, size, or a channel that does not take them.
    public static let clientEventRejected = PusherCode(rawValue: 4301)

    public var description: String { String(self.rawValue) }
}

/// The protocol versions pusher-js (7), older pusher-js and pysher (5, 6) speak.
public enum ProtocolVersion {
    public static let supported: ClosedRange<Int> = 5...7

    /// Checks the `protocol` query parameter of the WebSocket URL.
    public static func validate(_ parameter: String?) -> PusherCode? {
        guard let parameter else { return .noProtocolVersion }
        guard let version = Int(parameter) else { return .invalidVersionString }
        return Self.supported.contains(version) ? nil : .unsupportedProtocolVersion
    }
}
