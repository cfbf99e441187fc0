import Yams

extension AppConfiguration {
    /// Reads `apps:`, which has no default: a broker without apps accepts nothing.
    /// Ids and keys must be unique because they are how requests find their app.
    ///
    /// - Parameter nodeLimits: the node's `limits:`, which each app's `limits:` overrides;
    ///   read first whatever the order of the sections in the file.
    static func apps(reading root: MappingReader, nodeLimits: Limits) throws(ConfigError) -> [AppConfiguration] {
        guard let items = try root.sequence("apps"), !items.isEmpty else {
            throw ConfigError(
                code: .missingValue,
                file: root.file,
                line: root.line(of: "apps"),
                keyPath: "apps",
                message: "at least one app is required"
            )
        }
        var apps: [AppConfiguration] = []
        var indexByID: [String: Int] = [:]
        var indexByKey: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let reader = try MappingReader(
                item,
                keyPath: "apps[\(index)]",
                line: item.mark?.line,
                file: root.file,
                environment: root.environment
            )
            let app = try AppConfiguration(reading: reader, nodeLimits: nodeLimits)
            if let other = indexByID.updateValue(index, forKey: app.id) {
                throw reader.error(.invalidValue, key: "id", "apps[\(other)] already uses this id; ids must be unique")
            }
            if let other = indexByKey.updateValue(index, forKey: app.key) {
                throw reader.error(
                    .invalidValue,
                    key: "key",
                    "apps[\(other)] already uses this key; keys must be unique"
                )
            }
            apps.append(app)
        }
        return apps
    }

    /// `id` accepts a YAML integer (`id: 1`) because Pusher app ids are numeric and
    /// users copy them unquoted; it is kept as written.
    init(reading reader: MappingReader, nodeLimits: Limits) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: [
            "id", "key", "secret", "client_events", "enabled", "user_authentication_timeout_seconds",
            "max_connections", "allowed_origins", "limits", "webhooks",
        ])
        let id = try Self.requiredString("id", in: reader, acceptingIntegers: true)
        try Self.rejectURLUnsafeCharacters(in: id, key: "id", reader: reader)
        let key = try Self.requiredString("key", in: reader)
        try Self.rejectURLUnsafeCharacters(in: key, key: "key", reader: reader)
        let secret = try Self.requiredString("secret", in: reader)
        self.init(id: id, key: key, secret: secret)
        if let clientEvents = try reader.bool("client_events") {
            self.clientEvents = clientEvents
        }
        if let enabled = try reader.bool("enabled") {
            self.enabled = enabled
        }
        if let timeout = try reader.int("user_authentication_timeout_seconds") {
            guard timeout > 0 else {
                throw reader.error(
                    .invalidValue,
                    key: "user_authentication_timeout_seconds",
                    "must be a positive integer; leave it out to not require sign-in"
                )
            }
            self.userAuthenticationTimeoutSeconds = timeout
        }
        if let maxConnections = try reader.int("max_connections") {
            guard maxConnections > 0 else {
                throw reader.error(
                    .invalidValue,
                    key: "max_connections",
                    "must be a positive integer; leave it out for no per-app limit"
                )
            }
            self.maxConnections = maxConnections
        }
        self.allowedOrigins = try Self.allowedOrigins(reading: reader)
        self.webhooks = try Self.webhookConfigurations(reading: reader)
        self.limits = try Limits(
            reading: reader.mapping("limits"),
            overriding: nodeLimits,
            appKeyPath: reader.keyPath
        )
    }

    private static func requiredString(
        _ key: String,
        in reader: MappingReader,
        acceptingIntegers: Bool = false
    ) throws(ConfigError) -> String {
        guard let value = try reader.string(key, acceptingIntegers: acceptingIntegers) else {
            throw reader.error(.missingValue, key: key, "is required; every app needs an id, a key and a secret")
        }
        guard !value.isEmpty else {
            throw reader.error(.invalidValue, key: key, "must not be empty")
        }
        return value
    }

    /// The id is a segment of HTTP API paths (`/apps/{id}/events`) and the key of
    /// the WebSocket path (`/app/{key}`), so neither may hold a character that
    /// ends or splits a path segment.
    private static func rejectURLUnsafeCharacters(
        in value: String,
        key: String,
        reader: MappingReader
    ) throws(ConfigError) {
        guard let bad = value.first(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0.isWhitespace }) else {
            return
        }
        let character = bad.isWhitespace ? "whitespace" : "'\(bad)'"
        throw reader.error(.invalidValue, key: key, "must not contain \(character); it is part of a URL path")
    }
}
