extension Limits {
    /// The YAML name of every limit and the property it sets, shared by the loader
    /// and ``Config/summary`` so a new limit cannot be readable but unreported.
    static var yamlKeys: [(name: String, property: WritableKeyPath<Limits, Int>)] {
        [
            ("max_payload_bytes", \.maxPayloadBytes),
            ("max_event_bytes", \.maxEventBytes),
            ("client_events_per_second", \.clientEventsPerSecond),
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
        ]
    }

    /// Every limit must be positive: a zero would not mean "unlimited" but "reject
    /// everything", which is never what a deploy wants.
    init(reading reader: MappingReader) throws(ConfigError) {
        let keys = Self.yamlKeys
        try reader.rejectUnknownKeys(known: keys.map(\.name))
        self.init()
        for (name, property) in keys {
            guard let value = try reader.int(name) else {
                continue
            }
            guard value > 0 else {
                throw reader.error(.invalidValue, key: name, "must be a positive integer")
            }
            self[keyPath: property] = value
        }
        guard self.maxPayloadBytes >= self.maxEventBytes else {
            // Blame whichever of the two the file actually sets.
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
