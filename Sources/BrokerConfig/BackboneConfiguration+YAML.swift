import Foundation

extension BackboneConfiguration {
    /// Lease TTLs below this would expire between two renewals on a busy node.
    static let leaseTTLRange = 3...3600
    static let requestTimeoutRange = 10...60_000

    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["kind", "node_id", "nats"])
        self.init()
        if let name = try reader.string("kind") {
            guard let kind = Kind(rawValue: name) else {
                let accepted = Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw reader.error(.invalidValue, key: "kind", "unknown backbone kind '\(name)'; accepted: \(accepted)")
            }
            self.kind = kind
        }
        if let nodeID = try reader.string("node_id", acceptingIntegers: true) {
            guard Self.isValidNodeID(nodeID) else {
                throw reader.error(
                    .invalidValue, key: "node_id",
                    "must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_' (it names a NATS key)"
                )
            }
            self.nodeID = nodeID
        }
        if reader.node("nats") != nil {
            // A `nats:` section under the in-process kind would silently run a
            // single node; say so instead.
            guard self.kind == .nats else {
                throw reader.error(.invalidValue, key: "nats", "is only read with kind: nats (kind is \(self.kind.rawValue))")
            }
            self.nats = try NATSConfiguration(reading: reader.mapping("nats"))
        }
    }

    /// Node ids name a key in the lease bucket, so they keep to its alphabet.
    public static func isValidNodeID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_")
            }
    }
}

extension NATSConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: [
            "urls", "token", "user", "password", "credentials_file", "tls", "lease_ttl_seconds", "request_timeout_ms",
        ])
        self.init()
        if let urls = try reader.strings("urls", problem: Self.problem(url:)) {
            guard !urls.isEmpty else {
                throw reader.error(.invalidValue, key: "urls", "must list at least one NATS server (nats://host:port)")
            }
            self.urls = urls
        }
        self.authentication = try Self.authentication(reading: reader)
        if reader.node("tls") != nil {
            self.tls = try NATSTLSConfiguration(reading: reader.mapping("tls"))
        }
        if let ttl = try reader.int("lease_ttl_seconds") {
            guard BackboneConfiguration.leaseTTLRange.contains(ttl) else {
                let range = BackboneConfiguration.leaseTTLRange
                throw reader.error(.invalidValue, key: "lease_ttl_seconds", "must be \(range.lowerBound) to \(range.upperBound)")
            }
            self.leaseTTLSeconds = ttl
        }
        if let timeout = try reader.int("request_timeout_ms") {
            guard BackboneConfiguration.requestTimeoutRange.contains(timeout) else {
                let range = BackboneConfiguration.requestTimeoutRange
                throw reader.error(.invalidValue, key: "request_timeout_ms", "must be \(range.lowerBound) to \(range.upperBound)")
            }
            self.requestTimeoutMilliseconds = timeout
        }
    }

    private static func authentication(reading reader: MappingReader) throws(ConfigError) -> Authentication? {
        let token = try reader.string("token")
        let user = try reader.string("user")
        let password = try reader.string("password")
        let credentials = try reader.string("credentials_file")
        let given = [("token", token), ("user", user), ("credentials_file", credentials)].filter { $0.1 != nil }
        if given.count > 1 {
            throw reader.error(
                .invalidValue, key: given[1].0,
                "choose one of token, user/password and credentials_file (also set: \(given[0].0))"
            )
        }
        if let token {
            return .token(token)
        }
        if let user {
            guard let password else {
                throw reader.error(.missingValue, key: "password", "is required with user")
            }
            return .userPassword(user: user, password: password)
        }
        if password != nil {
            throw reader.error(.missingValue, key: "user", "is required with password")
        }
        if let credentials {
            guard FileManager.default.isReadableFile(atPath: credentials) else {
                throw reader.error(.invalidValue, key: "credentials_file", "cannot read \(credentials)")
            }
            return .credentialsFile(credentials)
        }
        return nil
    }

    /// libnats accepts `nats://` and `tls://` URLs with a host; anything else would
    /// only fail later, at the first connect attempt.
    private static func problem(url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["nats", "tls"].contains(scheme.lowercased()), let host = components.host, !host.isEmpty
        else {
            return "expected nats://host:port or tls://host:port"
        }
        return nil
    }
}

extension NATSTLSConfiguration {
    init(reading reader: MappingReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: ["ca_file", "cert_file", "key_file"])
        self.init()
        for key in ["ca_file", "cert_file", "key_file"] {
            if let path = try reader.string(key), !FileManager.default.isReadableFile(atPath: path) {
                throw reader.error(.invalidValue, key: key, "cannot read \(path)")
            }
        }
        self.caFile = try reader.string("ca_file")
        self.certificateFile = try reader.string("cert_file")
        self.keyFile = try reader.string("key_file")
        if (self.certificateFile == nil) != (self.keyFile == nil) {
            let missing = self.certificateFile == nil ? "cert_file" : "key_file"
            throw reader.error(.missingValue, key: missing, "cert_file and key_file go together (client authentication)")
        }
    }
}
