extension Config {
    /// Shown in place of every secret, whatever its length, so the summary can go
    /// to logs and CI output without revealing even how long a secret is.
    static let secretMask = "********"

    /// The effective value of every setting, one `key: value` line each in YAML
    /// spelling (`limits.max_payload_bytes: 102400`), defaults included, so
    /// `switchboard check-config` shows what will actually run rather than what
    /// the file happens to mention. Secrets are always masked.
    public var summary: [String] {
        var lines = [
            "server.host: \(self.server.host)",
            "server.port: \(self.server.port)",
            "backbone.kind: \(self.backbone.kind.rawValue)",
        ]
        for (name, property) in Limits.yamlKeys {
            lines.append("limits.\(name): \(self.limits[keyPath: property])")
        }
        lines.append("drain.grace_seconds: \(self.drain.graceSeconds)")
        for (index, app) in self.apps.enumerated() {
            let prefix = "apps[\(index)]"
            let timeout = app.userAuthenticationTimeoutSeconds.map(String.init) ?? "none"
            lines += [
                "\(prefix).id: \(app.id)",
                "\(prefix).key: \(app.key)",
                "\(prefix).secret: \(Self.secretMask)",
                "\(prefix).client_events: \(app.clientEvents)",
                "\(prefix).enabled: \(app.enabled)",
                "\(prefix).user_authentication_timeout_seconds: \(timeout)",
            ]
        }
        return lines
    }
}
