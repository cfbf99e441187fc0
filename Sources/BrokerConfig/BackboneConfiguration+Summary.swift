extension BackboneConfiguration {
    /// The NATS settings in `check-config` form; credentials masked, URLs redacted.
    var summary: [String] {
        let nats = self.nats
        let authentication: String
        switch nats.authentication {
        case nil: authentication = "none"
        case .token: authentication = "token \(Config.secretMask)"
        case .userPassword(let user, _): authentication = "user \(user), password \(Config.secretMask)"
        case .credentialsFile(let path): authentication = "credentials_file \(path)"
        }
        let tls = nats.tls.map { tls in
            [("ca_file", tls.caFile), ("cert_file", tls.certificateFile), ("key_file", tls.keyFile)]
                .compactMap { name, path in path.map { "\(name)=\($0)" } }.joined(separator: " ")
        }.map { $0.isEmpty ? "on (system CAs)" : $0 }
        return [
            "backbone.node_id: \(self.nodeID ?? "hostname + random suffix")",
            "backbone.nats.urls: \(nats.urls.map(Config.redacted).joined(separator: ", "))",
            "backbone.nats.authentication: \(authentication)",
            "backbone.nats.tls: \(tls ?? "off")",
            "backbone.nats.lease_ttl_seconds: \(nats.leaseTTLSeconds)",
            "backbone.nats.request_timeout_ms: \(nats.requestTimeoutMilliseconds)",
        ]
    }
}
