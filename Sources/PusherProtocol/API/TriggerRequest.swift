/// The body of `POST /apps/{id}/events`, or one entry of `batch_events`
/// (PROTOCOL.md, "HTTP API").
public struct TriggerRequest: Sendable, Equatable {
    public var name: String
    /// The payload exactly as the app server published it; delivered as a JSON string.
    public var data: String
    public var channels: [ChannelName]
    /// The sender's own socket, excluded from delivery.
    public var excludedSocket: SocketID?
    /// Attributes requested back per channel (`subscription_count`, `user_count`).
    public var info: Set<String>

    /// The bounds a trigger must respect; they come from the config's `limits:`.
    public struct Limits: Sendable {
        public var maximumChannels: Int
        public var maximumNameLength: Int
        public var maximumDataBytes: Int

        public init(maximumChannels: Int, maximumNameLength: Int, maximumDataBytes: Int) {
            self.maximumChannels = maximumChannels
            self.maximumNameLength = maximumNameLength
            self.maximumDataBytes = maximumDataBytes
        }
    }

    public init(json: JSONValue, limits: Limits) throws(TriggerRequestError) {
        guard json.isObject else { throw .notAnObject }
        guard let name = json["name"]?.stringValue, !name.isEmpty else { throw .missingField("name") }
        guard name.count <= limits.maximumNameLength else { throw .nameTooLong(maximum: limits.maximumNameLength) }
        guard let data = json["data"] else { throw .missingField("data") }
        guard let text = data.stringValue else { throw .dataNotAString }
        guard text.utf8.count <= limits.maximumDataBytes else { throw .dataTooLarge(maximum: limits.maximumDataBytes) }

        let channels: [ChannelName]
        switch (json["channel"], json["channels"]) {
        case (.string(let name)?, nil):
            channels = [try Self.channel(name)]
        case (nil, .array(let list)?):
            guard !list.isEmpty else { throw .invalidChannels }
            guard list.count <= limits.maximumChannels else { throw .tooManyChannels(maximum: limits.maximumChannels) }
            channels = try list.map { value throws(TriggerRequestError) in
                guard let name = value.stringValue else { throw .invalidChannels }
                return try Self.channel(name)
            }
        default:
            throw .invalidChannels
        }

        var excluded: SocketID?
        switch json["socket_id"] {
        case nil, .null?: excluded = nil
        case .string(let text)?:
            guard let id = SocketID(text) else { throw .invalidSocketID }
            excluded = id
        default: throw .invalidSocketID
        }
        let info = json["info"]?.stringValue.map { Set($0.split(separator: ",").map(String.init)) } ?? []

        self.name = name
        self.data = text
        self.channels = channels
        self.excludedSocket = excluded
        self.info = info
    }

    private static func channel(_ name: String) throws(TriggerRequestError) -> ChannelName {
        do {
            return try ChannelName(validating: name)
        } catch {
            throw .invalidChannelName(name, error)
        }
    }
}

public enum TriggerRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnObject
    case missingField(String)
    case nameTooLong(maximum: Int)
    case dataNotAString
    case dataTooLarge(maximum: Int)
    case invalidChannels
    case tooManyChannels(maximum: Int)
    case invalidChannelName(String, ChannelNameError)
    case invalidSocketID
    case batchTooLarge(maximum: Int)
    case notABatch

    public var description: String {
        switch self {
        case .notAnObject: return "request body must be a JSON object"
        case .missingField(let field): return "'\(field)' is required"
        case .nameTooLong(let maximum): return "event name is longer than \(maximum) characters"
        case .dataNotAString: return "'data' must be a string"
        case .dataTooLarge(let maximum): return "event data is larger than \(maximum) bytes"
        case .invalidChannels: return "give either 'channel' (a string) or 'channels' (a non-empty array of strings)"
        case .tooManyChannels(let maximum): return "at most \(maximum) channels per event"
        case .invalidChannelName(let name, let error): return "invalid channel '\(name)': \(error)"
        case .invalidSocketID: return "'socket_id' must look like 123.456"
        case .batchTooLarge(let maximum): return "at most \(maximum) events per batch"
        case .notABatch: return "request body must be {\"batch\": [events]}"
        }
    }

    /// Whether the refusal is about size (HTTP 413) rather than form (HTTP 400).
    public var isSizeLimit: Bool {
        switch self {
        case .dataTooLarge, .batchTooLarge: return true
        default: return false
        }
    }
}

/// The body of `POST /apps/{id}/batch_events`: `{"batch": [event, ...]}`.
public struct BatchTriggerRequest: Sendable, Equatable {
    public var events: [TriggerRequest]

    public init(json: JSONValue, maximumEvents: Int, limits: TriggerRequest.Limits) throws(TriggerRequestError) {
        guard case .array(let entries)? = json["batch"] else { throw .notABatch }
        guard entries.count <= maximumEvents else { throw .batchTooLarge(maximum: maximumEvents) }
        self.events = try entries.map { entry throws(TriggerRequestError) in
            try TriggerRequest(json: entry, limits: limits)
        }
    }
}
