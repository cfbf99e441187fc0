/// Builds the JSON text of a frame the server sends.
///
/// Written by hand rather than through a generic encoder because it runs once per
/// published event and its output is the exact byte sequence every subscriber gets.
/// `pusher:` and `pusher_internal:` events carry their payload JSON-encoded a second
/// time (a JSON string), HTTP-triggered events carry the published string, and client
/// events carry the sender's `data` as written (PROTOCOL.md, "WebSocket endpoint").
public struct ServerEvent: Sendable, Equatable {
    public enum Data: Sendable, Equatable {
        /// A string payload, written as a JSON string literal.
        case string(String)
        /// JSON text written verbatim: a client event's data, already validated.
        case json(String)
    }

    public var event: String
    public var channel: String?
    public var data: Data?
    /// Presence client events name their sender.
    public var userID: String?

    public init(event: String, channel: String? = nil, data: Data? = nil, userID: String? = nil) {
        self.event = event
        self.channel = channel
        self.data = data
        self.userID = userID
    }

    /// A `pusher:` / `pusher_internal:` event whose payload object is encoded into a string.
    public init(internal event: String, channel: String? = nil, payload: JSONValue) {
        self.init(event: event, channel: channel, data: .string(payload.serialized))
    }

    public func encode(into output: inout [UInt8]) {
        output.append(contentsOf: #"{"event":"#.utf8)
        JSONString.append(self.event, to: &output)
        if let channel = self.channel {
            output.append(contentsOf: #","channel":"#.utf8)
            JSONString.append(channel, to: &output)
        }
        switch self.data {
        case .string(let text)?:
            output.append(contentsOf: #","data":"#.utf8)
            JSONString.append(text, to: &output)
        case .json(let text)?:
            output.append(contentsOf: #","data":"#.utf8)
            output.append(contentsOf: text.utf8)
        case nil:
            break
        }
        if let userID = self.userID {
            output.append(contentsOf: #","user_id":"#.utf8)
            JSONString.append(userID, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// The JSON text in one allocation: the capacity covers the envelope and every field
    /// unescaped (escapes are rare), where growing from empty took four (Benchmarks/Micro).
    public var encoded: [UInt8] {
        var output: [UInt8] = []
        var capacity = 48 + self.event.utf8.count + (self.channel?.utf8.count ?? 0) + (self.userID?.utf8.count ?? 0)
        switch self.data {
        case .string(let text)?, .json(let text)?: capacity += text.utf8.count
        case nil: break
        }
        output.reserveCapacity(capacity)
        self.encode(into: &output)
        return output
    }
}

extension ServerEvent {
    public static func connectionEstablished(socketID: SocketID, activityTimeout: Int) -> ServerEvent {
        ServerEvent(
            internal: "pusher:connection_established",
            payload: .object([
                ("socket_id", .string(socketID.description)), ("activity_timeout", .number(String(activityTimeout))),
            ])
        )
    }

    /// A refusal that leaves the connection open, or announces the close that follows.
    public static func error(code: PusherCode?, message: String) -> ServerEvent {
        ServerEvent(
            internal: "pusher:error",
            payload: .object([("code", code.map { .number($0.description) } ?? .null), ("message", .string(message))])
        )
    }

    public static let pong = ServerEvent(event: "pusher:pong", data: .string("{}"))
    public static let ping = ServerEvent(event: "pusher:ping", data: .string("{}"))

    public static func subscriptionSucceeded(channel: String, presence: PresenceSnapshot? = nil) -> ServerEvent {
        let payload: JSONValue = presence.map { .object([("presence", $0.json)]) } ?? .object([])
        return ServerEvent(internal: "pusher_internal:subscription_succeeded", channel: channel, payload: payload)
    }

    /// `type` and `status` follow pusher-js' `SubscriptionError` fields.
    public static func subscriptionError(channel: String, type: String, error: String, status: Int) -> ServerEvent {
        ServerEvent(
            internal: "pusher:subscription_error",
            channel: channel,
            payload: .object([("type", .string(type)), ("error", .string(error)), ("status", .number(String(status)))])
        )
    }

    public static func cacheMiss(channel: String) -> ServerEvent {
        ServerEvent(event: "pusher:cache_miss", channel: channel, data: .string("{}"))
    }

    public static func memberAdded(channel: String, member: PresenceMember) -> ServerEvent {
        ServerEvent(
            internal: "pusher_internal:member_added",
            channel: channel,
            payload: .object([("user_id", .string(member.userID)), ("user_info", member.userInfo ?? .null)])
        )
    }

    public static func memberRemoved(channel: String, userID: String) -> ServerEvent {
        ServerEvent(internal: "pusher_internal:member_removed", channel: channel, payload: .object([("user_id", .string(userID))]))
    }

    public static func signinSuccess(userData: String) -> ServerEvent {
        ServerEvent(internal: "pusher:signin_success", payload: .object([("user_data", .string(userData))]))
    }
}
