/// Reading each top-level section from its YAML mapping. Range checks sit next to
/// the read that produced the value, where its line is at hand.
extension Config {
    /// Reads the whole document; every section may be absent except `apps`.
    init(reading root: MappingReader) throws(ConfigError) {
        try root.rejectUnknownKeys(known: ["server", "backbone", "limits", "drain", "apps"])
        let server = try ServerConfiguration(reading: root.mapping("server"))
        let backbone = try BackboneConfiguration(reading: root.mapping("backbone"))
        let limits = try Limits(reading: root.mapping("limits"))
        let drain = try DrainConfiguration(reading: root.mapping("drain"))
        // Apps come last because their effective limits start from the node's.
        let apps = try AppConfiguration.apps(reading: root, nodeLimits: limits)
        self.init(server: server, backbone: backbone, limits: limits, drain: drain, apps: apps)
    }
}

extension ServerConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["host", "port"])
        self.init()
        if let host = try reader.string("host") {
            guard !host.isEmpty else {
                throw reader.error(
                    .invalidValue,
                    key: "host",
                    "must not be empty; use 0.0.0.0 to listen on every interface"
                )
            }
            self.host = host
        }
        if let port = try reader.int("port") {
            guard (0 ... 65_535).contains(port) else {
                throw reader.error(.invalidValue, key: "port", "must be between 0 and 65535 (0 lets the OS choose)")
            }
            self.port = port
        }
    }
}

extension BackboneConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["kind"])
        self.init()
        if let name = try reader.string("kind") {
            guard let kind = Kind(rawValue: name) else {
                let accepted = Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw reader.error(.invalidValue, key: "kind", "unknown backbone kind '\(name)'; accepted: \(accepted)")
            }
            self.kind = kind
        }
    }
}

extension DrainConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["grace_seconds"])
        self.init()
        if let graceSeconds = try reader.int("grace_seconds") {
            guard graceSeconds >= 0 else {
                throw reader.error(.invalidValue, key: "grace_seconds", "must be 0 (close at once) or more")
            }
            self.graceSeconds = graceSeconds
        }
    }
}
