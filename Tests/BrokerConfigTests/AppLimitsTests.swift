import BrokerConfig
import Testing

@Suite struct AppLimitsTests {
    @Test func everyAppGetsTheNodeLimitsWhenItOverridesNothing() throws {
        let config = try load(
            """
            apps:
              - { id: "1", key: a, secret: s }
              - { id: "2", key: b, secret: s, limits: {} }
            limits: { client_events_per_second: 3, max_connections: 9 }
            """
        )
        #expect(config.limits.clientEventsPerSecond == 3)
        #expect(config.apps.map(\.limits) == [config.limits, config.limits])
    }

    /// `limits:` after `apps:` in the file still is what apps start from.
    @Test func appOverridesReplaceOnlyTheirKeysOfTheNodeLimits() throws {
        let config = try load(
            """
            apps:
              - id: "1"
                key: a
                secret: s
                limits:
                  client_events_per_second: 50
                  max_event_bytes: 2000
            limits:
              max_batch_size: 20
              max_event_bytes: 4000
            """
        )
        var expected = Limits(maxEventBytes: 4_000, maxBatchSize: 20)
        #expect(config.limits == expected)
        expected.clientEventsPerSecond = 50
        expected.maxEventBytes = 2_000
        #expect(config.apps[0].limits == expected)
    }

    @Test(arguments: [
        ("max_connections", " (per-app connection quota is apps[0].max_connections)"),
        ("handshake_timeout_seconds", ""),
        ("max_http_header_bytes", ""),
        ("max_http_body_bytes", ""),
    ])
    func nodeWideLimitUnderAnAppIsRefusedAtItsLine(key: String, hint: String) {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - id: "1"
                    key: a
                    secret: s
                    limits:
                      client_events_per_second: 50
                      \(key): 5
                """
            )
        }
        #expect(error?.keyPath == "apps[0].limits.\(key)")
        #expect(error?.line == 7)
        #expect(error?.code == .unknownKey)
        #expect(error?.message == "node-wide limit; set it under limits:\(hint)")
    }

    /// Each case is appended to an app whose `secret:` is on line 4.
    @Test(arguments: [
        InvalidConfigCase(
            yaml: "limits:\n      client_events_burst: 0",
            keyPath: "apps[0].limits.client_events_burst",
            line: 6
        ),
        InvalidConfigCase(
            yaml: "limits:\n      max_event_bytes: 200000",
            keyPath: "apps[0].limits.max_event_bytes",
            line: 6
        ),
        InvalidConfigCase(
            yaml: "limits:\n      max_payload_bytes: 5000",
            keyPath: "apps[0].limits.max_payload_bytes",
            line: 6
        ),
        InvalidConfigCase(
            yaml: "limits:\n      max_batch_sise: 5",
            keyPath: "apps[0].limits.max_batch_sise",
            line: 6,
            code: .unknownKey
        ),
        InvalidConfigCase(yaml: "limits: 5", keyPath: "apps[0].limits", line: 5, code: .wrongType),
        InvalidConfigCase(yaml: "max_connections: 0", keyPath: "apps[0].max_connections", line: 5),
        InvalidConfigCase(
            yaml: "max_connections: many",
            keyPath: "apps[0].max_connections",
            line: 5,
            code: .wrongType
        ),
    ])
    func invalidAppLimitIsRejectedAtItsLine(testCase: InvalidConfigCase) {
        let error = #expect(throws: ConfigError.self) {
            try load("apps:\n  - id: \"1\"\n    key: a\n    secret: s\n    \(testCase.yaml)")
        }
        #expect(error?.code == testCase.code)
        #expect(error?.keyPath == testCase.keyPath)
        #expect(error?.line == testCase.line)
    }

    @Test func appCrossCheckUsesTheEffectiveValues() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                limits: { max_payload_bytes: 4000, max_event_bytes: 4000 }
                apps:
                  - id: "1"
                    key: a
                    secret: s
                    limits: { max_event_bytes: 4001 }
                """
            )
        }
        #expect(error?.keyPath == "apps[0].limits.max_event_bytes")
        #expect(error?.line == 6)
        #expect(error?.message.hasPrefix("max_payload_bytes (4000) must be at least max_event_bytes (4001)") == true)
    }

    @Test func appMaxConnectionsIsReadAndOptional() throws {
        let config = try load(
            """
            apps:
              - { id: "1", key: a, secret: s, max_connections: 500 }
              - { id: "2", key: b, secret: s, max_connections: null }
            """
        )
        #expect(config.apps.map(\.maxConnections) == [500, nil])
    }
}
