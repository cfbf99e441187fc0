import BrokerConfig
import Testing

@Suite struct LimitsTests {
    /// The defaults are documented in README.md and Config/switchboard.yaml; a change
    /// here must be a decision, not an accident.
    @Test func newLimitsTakeTheirDocumentedDefaults() throws {
        let limits = try load(minimalYAML).limits
        #expect(limits.clientEventsBurst == 10)
        #expect(limits.inboundMessagesPerSecond == 100)
        #expect(limits.inboundMessagesBurst == 200)
        #expect(limits.inboundViolationsBeforeClose == 10)
        #expect(limits.maxOutboundBufferBytes == 1_048_576)
        #expect(limits.handshakeTimeoutSeconds == 10)
        #expect(limits.maxHTTPHeaderBytes == 16_384)
        #expect(limits.httpRequestsPerSecond == 1_000)
        #expect(limits.httpRequestsBurst == 2_000)
        #expect(limits.maxConnections == nil)
    }

    @Test(arguments: ["", "limits: { max_connections: }", "limits: { max_connections: null }", "limits: {}"])
    func absentOrNullMaxConnectionsIsUnlimited(yaml: String) throws {
        #expect(try load("\(minimalYAML)\n\(yaml)").limits.maxConnections == nil)
    }

    @Test func maxConnectionsIsRead() throws {
        let limits = try load("\(minimalYAML)\nlimits: { max_connections: \"${MAX:-2500}\" }").limits
        #expect(limits.maxConnections == 2_500)
    }

    @Test(arguments: [
        InvalidConfigCase(yaml: "limits: { max_connections: 0 }", keyPath: "limits.max_connections", line: 3),
        InvalidConfigCase(yaml: "limits: { max_connections: -1 }", keyPath: "limits.max_connections", line: 3),
        InvalidConfigCase(
            yaml: "limits:\n  max_connections: unlimited",
            keyPath: "limits.max_connections",
            line: 4,
            code: .wrongType
        ),
        InvalidConfigCase(yaml: "limits: { client_events_burst: 0 }", keyPath: "limits.client_events_burst", line: 3),
        InvalidConfigCase(
            yaml: "limits: { inbound_messages_burst: -3 }",
            keyPath: "limits.inbound_messages_burst",
            line: 3
        ),
        InvalidConfigCase(yaml: "limits: { http_requests_burst: 0 }", keyPath: "limits.http_requests_burst", line: 3),
        InvalidConfigCase(
            yaml: "limits:\n  handshake_timeout_seconds: 0",
            keyPath: "limits.handshake_timeout_seconds",
            line: 4
        ),
        InvalidConfigCase(
            yaml: "limits:\n  max_outbound_buffer_bytes: lots",
            keyPath: "limits.max_outbound_buffer_bytes",
            line: 4,
            code: .wrongType
        ),
        InvalidConfigCase(
            yaml: "limits:\n  http_request_per_second: 5",
            keyPath: "limits.http_request_per_second",
            line: 4,
            code: .unknownKey
        ),
    ])
    func invalidNewLimitIsRejectedAtItsLine(testCase: InvalidConfigCase) {
        testCase.expectRejected()
    }

    @Test func misspelledNewLimitSuggestsTheKnownKey() {
        let error = #expect(throws: ConfigError.self) {
            try load("\(minimalYAML)\nlimits: { max_conections: 5 }")
        }
        #expect(error?.message == "unknown key; did you mean 'max_connections'?")
    }
}
