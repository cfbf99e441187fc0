extension Limits {
    /// The YAML name of every integer limit and the property it sets, shared by the
    /// loader and ``Config/summary`` so a new limit cannot be readable but unreported.
    /// `max_connections` is not here because it is optional; it is read on its own.
    static var yamlKeys: [(name: String, property: WritableKeyPath<Limits, Int>)] {
        [
            ("max_payload_bytes", \.maxPayloadBytes),
            ("max_event_bytes", \.maxEventBytes),
            ("client_events_per_second", \.clientEventsPerSecond),
            ("client_events_burst", \.clientEventsBurst),
            ("activity_timeout_seconds", \.activityTimeoutSeconds),
            ("pong_timeout_seconds", \.pongTimeoutSeconds),
            ("max_channels_per_connection", \.maxChannelsPerConnection),
            ("max_channels_per_trigger", \.maxChannelsPerTrigger),
            ("max_batch_size", \.maxBatchSize),
            ("max_event_name_length", \.maxEventNameLength),
            ("max_presence_members", \.maxPresenceMembers),
            ("max_presence_user_info_bytes", \.maxPresenceUserInfoBytes),
            ("max_user_id_length", \.maxUserIDLength),
            ("auth_timestamp_window_seconds", \.authTimestampWindowSeconds),
            ("max_http_body_bytes", \.maxHTTPBodyBytes),
            ("inbound_messages_per_second", \.inboundMessagesPerSecond),
            ("inbound_messages_burst", \.inboundMessagesBurst),
            ("inbound_violations_before_close", \.inboundViolationsBeforeClose),
            ("max_outbound_buffer_bytes", \.maxOutboundBufferBytes),
            ("handshake_timeout_seconds", \.handshakeTimeoutSeconds),
            ("max_http_header_bytes", \.maxHTTPHeaderBytes),
            ("http_requests_per_second", \.httpRequestsPerSecond),
            ("http_requests_burst", \.httpRequestsBurst),
        ]
    }

    /// The optional limit, read apart from ``yamlKeys`` because absent means unlimited.
    static let maxConnectionsKey = "max_connections"

    /// Limits that bound the node's listener before any app is known (the socket, the
    /// HTTP request head and body), so an app cannot override them.
    static let nodeWideKeys = [
        Self.maxConnectionsKey, "handshake_timeout_seconds", "max_http_header_bytes", "max_http_body_bytes",
    ]

    /// Reads `limits:`. Every limit must be positive: a zero would not mean
    /// "unlimited" but "reject everything", which is never what a deploy wants.
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.yamlKeys.map(\.name) + [Self.maxConnectionsKey])
        self.init()
        try self.applyOverrides(from: reader)
        if let maxConnections = try reader.int(Self.maxConnectionsKey) {
            guard maxConnections > 0 else {
                throw reader.error(
                    .invalidValue,
                    key: Self.maxConnectionsKey,
                    "must be a positive integer; leave it out for no limit"
                )
            }
            self.maxConnections = maxConnections
        }
        try self.checkPayloadHoldsEvent(reader)
    }

    /// Reads `apps[].limits:` over `node`: each key present replaces the node's value,
    /// so the result is the app's effective limits. Cross-field rules are checked on
    /// the result, since an app may break them by setting only one side.
    ///
    /// - Parameter appKeyPath: the app's own path (`apps[0]`), to name its connection quota.
    init(reading reader: MappingReader, overriding node: Limits, appKeyPath: String) throws(ConfigError) {
        try Self.rejectNodeWideKeys(in: reader, appKeyPath: appKeyPath)
        try reader.rejectUnknownKeys(known: Self.yamlKeys.map(\.name).filter { !Self.nodeWideKeys.contains($0) })
        self = node
        try self.applyOverrides(from: reader)
        try self.checkPayloadHoldsEvent(reader)
    }

    private mutating func applyOverrides(from reader: MappingReader) throws(ConfigError) {
        for (name, property) in Self.yamlKeys {
            guard let value = try reader.int(name) else {
                continue
            }
            guard value > 0 else {
                throw reader.error(.invalidValue, key: name, "must be a positive integer")
            }
            self[keyPath: property] = value
        }
    }

    /// Names the earliest node-wide key in the file, pointing at the per-app quota
    /// when the key is `max_connections`, which is what such a line usually meant.
    private static func rejectNodeWideKeys(in reader: MappingReader, appKeyPath: String) throws(ConfigError) {
        let present = Self.nodeWideKeys.compactMap { key in reader.line(of: key).map { (key, $0) } }
        guard let (key, line) = present.min(by: { $0.1 < $1.1 }) else {
            return
        }
        var message = "node-wide limit; set it under limits:"
        if key == Self.maxConnectionsKey {
            message += " (per-app connection quota is \(appKeyPath).max_connections)"
        }
        throw reader.error(.unknownKey, key: key, line: line, message)
    }

    private func checkPayloadHoldsEvent(_ reader: MappingReader) throws(ConfigError) {
        guard self.maxPayloadBytes >= self.maxEventBytes else {
            // Blame whichever of the two the mapping actually sets.
            let key = reader.node("max_payload_bytes") != nil ? "max_payload_bytes" : "max_event_bytes"
            throw reader.error(
                .invalidValue,
                key: key,
                "max_payload_bytes (\(self.maxPayloadBytes)) must be at least max_event_bytes "
                    + "(\(self.maxEventBytes)), since every event arrives inside one WebSocket message"
            )
        }
    }
}
