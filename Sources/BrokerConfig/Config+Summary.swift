import Foundation

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
            "server.tls: \(self.server.tls.map { "cert_file=\($0.certificateFile) key_file=\($0.keyFile)" } ?? "off")",
            "server.trusted_proxies: \(self.server.trustedProxies.isEmpty ? "none" : self.server.trustedProxies.map(\.description).joined(separator: ", "))",
            "server.event_loops: \(self.server.eventLoops.map(String.init) ?? "one per CPU")",
            "server.metrics_token: \(self.server.metricsToken == nil ? "none (/metrics is open)" : Self.secretMask)",
            "backbone.kind: \(self.backbone.kind.rawValue)",
        ]
        if self.backbone.kind == .nats {
            lines += self.backbone.summary
        }
        for (name, property) in Limits.yamlKeys {
            lines.append("limits.\(name): \(self.limits[keyPath: property])")
        }
        lines.append("limits.\(Limits.maxConnectionsKey): \(Self.describe(self.limits.maxConnections))")
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
                "\(prefix).max_connections: \(Self.describe(app.maxConnections))",
                "\(prefix).allowed_origins: \(Self.describe(app.allowedOrigins))",
            ]
            // Only overrides, so an app that inherits every limit adds no lines.
            for (name, property) in Limits.yamlKeys {
                let value = app.limits[keyPath: property]
                if value != self.limits[keyPath: property] {
                    lines.append("\(prefix).limits.\(name): \(value)")
                }
            }
            // Only when configured, so an app without webhooks adds no lines.
            for (index, webhook) in app.webhooks.enumerated() {
                let events = webhook.eventTypes.sorted().joined(separator: ", ")
                lines.append("\(prefix).webhooks[\(index)]: \(Self.redacted(webhook.url)) (\(events))")
            }
        }
        return lines
    }

    private static func describe(_ maxConnections: Int?) -> String {
        maxConnections.map(String.init) ?? "unlimited"
    }

    /// An empty list allows every origin, so say so rather than print nothing.
    private static func describe(_ allowedOrigins: [String]) -> String {
        allowedOrigins.isEmpty ? "any" : allowedOrigins.joined(separator: ", ")
    }

    /// A webhook URL without its user info and query, where tokens tend to live: the
    /// summary goes to logs and terminals.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "********" }
        if components.user != nil || components.password != nil {
            components.user = "********"
            components.password = nil
        }
        if components.query != nil { components.query = "********" }
        return components.string ?? "********"
    }
}
