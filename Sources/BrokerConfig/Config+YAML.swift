import Foundation

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
        try reader.rejectUnknownKeys(known: ["host", "port", "tls", "trusted_proxies", "event_loops", "metrics_token"])
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
        if let eventLoops = try reader.int("event_loops") {
            guard (1 ... Self.maximumEventLoops).contains(eventLoops) else {
                throw reader.error(
                    .invalidValue,
                    key: "event_loops",
                    "must be between 1 and \(Self.maximumEventLoops); leave it out for one per CPU"
                )
            }
            self.eventLoops = eventLoops
        }
        self.tls = try ServerTLSConfiguration(reading: reader.mapping("tls"))
        self.trustedProxies = try Self.trustedProxies(reading: reader)
        if let token = try reader.string("metrics_token") {
            guard token.utf8.count >= Self.minimumMetricsTokenLength else {
                throw reader.error(
                    .invalidValue,
                    key: "metrics_token",
                    "must be at least \(Self.minimumMetricsTokenLength) characters (e.g. openssl rand -hex 16)"
                )
            }
            guard token.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
                throw reader.error(.invalidValue, key: "metrics_token", "must be printable ASCII without spaces")
            }
            self.metricsToken = token
        }
    }

    static let maximumEventLoops = 1024
    /// Long enough that guessing it over the network is hopeless.
    static let minimumMetricsTokenLength = 16

    /// Each entry is an address (`10.0.0.5`, `::1`) or a CIDR range (`10.0.0.0/8`).
    private static func trustedProxies(reading reader: MappingReader) throws(ConfigError) -> [IPAddressRange] {
        let entries = try reader.strings("trusted_proxies") { entry in
            IPAddressRange(entry) == nil ? "'\(entry)' is not an IP address or CIDR range such as 10.0.0.0/8" : nil
        }
        return (entries ?? []).compactMap(IPAddressRange.init)
    }
}

extension ServerTLSConfiguration {
    /// `nil` when the section is absent; both files are required and must be readable
    /// now, so a typo fails `check-config` instead of the first TLS handshake.
    init?(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["cert_file", "key_file"])
        let certificate = try reader.string("cert_file")
        let key = try reader.string("key_file")
        guard certificate != nil || key != nil else { return nil }
        for (name, path) in [("cert_file", certificate), ("key_file", key)] {
            guard let path, !path.isEmpty else {
                throw reader.error(.missingValue, key: name, "is required when server.tls is set (PEM file)")
            }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw reader.error(.invalidValue, key: name, "cannot read \(path)")
            }
        }
        self.init(certificateFile: certificate!, keyFile: key!)
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
