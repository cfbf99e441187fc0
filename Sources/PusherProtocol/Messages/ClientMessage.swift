/// One frame a client sent: `{"event": "...", "channel": "...", "data": ...}`.
///
/// `data` stays a `JSONValue` because its meaning depends on the event: an object for
/// `pusher:subscribe`, anything for a client event (relayed as written). Some clients
/// send `pusher:` payloads JSON-encoded into a string; ``payload`` accepts both forms.
public struct ClientMessage: Sendable, Equatable {
    public var event: String
    public var channel: String?
    public var data: JSONValue?

    public init(event: String, channel: String? = nil, data: JSONValue? = nil) {
        self.event = event
        self.channel = channel
        self.data = data
    }

    public init(parsing bytes: [UInt8]) throws(ClientMessageError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes: bytes)
        } catch {
            throw .invalidJSON(error)
        }
        guard document.isObject else { throw .notAnObject }
        guard let event = document["event"] else { throw .missingEvent }
        guard let name = event.stringValue, !name.isEmpty else { throw .eventNotAString }
        let channel = document["channel"]
        if let channel, channel != .null, channel.stringValue == nil { throw .channelNotAString }
        self.init(event: name, channel: channel?.stringValue, data: document["data"])
    }

    /// `data` as an object, decoding the string form some clients use.
    public var payload: JSONValue? {
        switch self.data {
        case .string(let text): return (try? JSONParser.parse(text)).flatMap { $0.isObject ? $0 : nil }
        case .some(let value) where value.isObject: return value
        default: return nil
        }
    }
}

public enum ClientMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONError)
    case notAnObject
    case missingEvent
    case eventNotAString
    case channelNotAString

    public var description: String {
        switch self {
        case .invalidJSON(let error): return "message is not valid JSON (\(error))"
        case .notAnObject: return "message must be a JSON object"
        case .missingEvent: return "message has no 'event' field"
        case .eventNotAString: return "'event' must be a non-empty string"
        case .channelNotAString: return "'channel' must be a string"
        }
    }
}
