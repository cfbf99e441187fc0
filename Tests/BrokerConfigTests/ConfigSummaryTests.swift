import BrokerConfig
import Testing

@Suite struct ConfigSummaryTests {
    @Test func summaryListsEveryEffectiveValueUnderItsYAMLName() throws {
        let config = try load(
            """
            limits: { max_batch_size: 20 }
            apps:
              - { id: "1", key: app-key, secret: s3cret, user_authentication_timeout_seconds: 30 }
            """
        )
        #expect(
            config.summary == [
                "server.host: 0.0.0.0",
                "server.port: 6001",
                "server.tls: off",
                "server.trusted_proxies: none",
                "server.event_loops: one per CPU",
                "server.metrics_token: none (/metrics is open)",
                "backbone.kind: in-process",
                "limits.max_payload_bytes: 102400",
                "limits.max_event_bytes: 10240",
                "limits.client_events_per_second: 10",
                "limits.client_events_burst: 10",
                "limits.activity_timeout_seconds: 120",
                "limits.pong_timeout_seconds: 30",
                "limits.max_channels_per_connection: 100",
                "limits.max_channels_per_trigger: 100",
                "limits.max_batch_size: 20",
                "limits.max_event_name_length: 200",
                "limits.max_presence_members: 100",
                "limits.max_presence_user_info_bytes: 1024",
                "limits.max_user_id_length: 128",
                "limits.auth_timestamp_window_seconds: 600",
                "limits.max_http_body_bytes: 1048576",
                "limits.inbound_messages_per_second: 100",
                "limits.inbound_messages_burst: 200",
                "limits.inbound_violations_before_close: 10",
                "limits.max_outbound_buffer_bytes: 1048576",
                "limits.handshake_timeout_seconds: 10",
                "limits.max_http_header_bytes: 16384",
                "limits.http_requests_per_second: 1000",
                "limits.http_requests_burst: 2000",
                "limits.max_connections: unlimited",
                "drain.grace_seconds: 30",
                "apps[0].id: 1",
                "apps[0].key: app-key",
                "apps[0].secret: ********",
                "apps[0].client_events: false",
                "apps[0].enabled: true",
                "apps[0].user_authentication_timeout_seconds: 30",
                "apps[0].max_connections: unlimited",
                "apps[0].allowed_origins: any",
            ]
        )
    }

    @Test func summaryShowsEachAppsQuotaOriginsAndOnlyTheLimitsItOverrides() throws {
        let config = try load(
            """
            limits: { max_connections: 10000, client_events_per_second: 20 }
            apps:
              - id: "1"
                key: a
                secret: s
                max_connections: 500
                allowed_origins: [https://app.example.com, "*.example.com"]
                limits:
                  client_events_per_second: 50
                  max_batch_size: 10
                  http_requests_burst: 30
              - { id: "2", key: b, secret: s }
            """
        )
        let summary = config.summary
        #expect(summary.contains("limits.max_connections: 10000"))
        #expect(
            Array(summary.drop(while: { !$0.hasPrefix("apps[0].max_connections") }).prefix(5)) == [
                "apps[0].max_connections: 500",
                "apps[0].allowed_origins: https://app.example.com, *.example.com",
                "apps[0].limits.client_events_per_second: 50",
                "apps[0].limits.http_requests_burst: 30",
                "apps[1].id: 2",
            ]
        )
        #expect(!summary.contains { $0.hasPrefix("apps[1].limits.") })
    }

    @Test func summaryNeverShowsASecret() throws {
        let secret = "do-not-print-me"
        let config = try load(
            """
            server: { metrics_token: "${SECRET}-as-a-token" }
            apps:
              - { id: a, key: a-key, secret: "${SECRET}" }
              - { id: b, key: b-key, secret: \(secret) }
            """,
            environment: ["SECRET": secret]
        )
        #expect(config.apps.map(\.secret) == [secret, secret])
        #expect(!config.summary.contains { $0.contains(secret) })
        #expect(config.summary.filter { $0.hasSuffix(".secret: ********") }.count == 2)
        #expect(config.summary.contains("server.metrics_token: ********"))
    }

    /// Every line must be readable back by its key, so the summary can be diffed and grepped.
    @Test func summaryLinesAreKeyValuePairsWithUniqueKeys() throws {
        let keys = try load(minimalYAML).summary.map { $0.prefix(while: { $0 != ":" }) }
        #expect(Set(keys).count == keys.count)
        #expect(keys.allSatisfy { !$0.isEmpty && !$0.contains(" ") })
    }
}
