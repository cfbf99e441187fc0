import BrokerConfig
import Testing

/// A YAML fragment (appended after ``minimalYAML`` unless it declares its own
/// `apps:`) that breaks one rule, and where the error must point.
struct InvalidConfigCase: Sendable, CustomTestStringConvertible {
    var yaml: String
    var keyPath: String
    var line: Int?
    var code: ConfigError.Code = .invalidValue

    var testDescription: String { self.keyPath }

    /// Loading the fragment fails with this case's code, key path and line.
    func expectRejected(sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: ConfigError.self, sourceLocation: sourceLocation) {
            try load("\(minimalYAML)\n\(self.yaml)")
        }
        #expect(error?.code == self.code, sourceLocation: sourceLocation)
        #expect(error?.keyPath == self.keyPath, sourceLocation: sourceLocation)
        #expect(error?.line == self.line, sourceLocation: sourceLocation)
    }
}

@Suite struct ConfigValidationTests {
    @Test(arguments: [
        InvalidConfigCase(yaml: "server: { port: -1 }", keyPath: "server.port", line: 3),
        InvalidConfigCase(yaml: "server: { port: 65536 }", keyPath: "server.port", line: 3),
        InvalidConfigCase(yaml: "server: { host: '' }", keyPath: "server.host", line: 3),
        InvalidConfigCase(yaml: "server: { event_loops: 0 }", keyPath: "server.event_loops", line: 3),
        InvalidConfigCase(yaml: "server: { event_loops: 1025 }", keyPath: "server.event_loops", line: 3),
        InvalidConfigCase(yaml: "server: { metrics_token: short }", keyPath: "server.metrics_token", line: 3),
        InvalidConfigCase(yaml: "server: { metrics_token: 'has spaces in it, 24 chars' }", keyPath: "server.metrics_token", line: 3),
        InvalidConfigCase(yaml: "backbone: { kind: redis }", keyPath: "backbone.kind", line: 3),
        InvalidConfigCase(yaml: "limits: { max_batch_size: 0 }", keyPath: "limits.max_batch_size", line: 3),
        InvalidConfigCase(
            yaml: "limits: { pong_timeout_seconds: -5 }",
            keyPath: "limits.pong_timeout_seconds",
            line: 3
        ),
        InvalidConfigCase(
            yaml: "limits:\n  max_event_bytes: 100\n  max_payload_bytes: 99",
            keyPath: "limits.max_payload_bytes",
            line: 5
        ),
        InvalidConfigCase(yaml: "limits:\n  max_event_bytes: 200000", keyPath: "limits.max_event_bytes", line: 4),
        InvalidConfigCase(yaml: "drain: { grace_seconds: -1 }", keyPath: "drain.grace_seconds", line: 3),
    ])
    func outOfRangeValueIsRejectedAtItsLine(testCase: InvalidConfigCase) {
        testCase.expectRejected()
    }

    @Test(arguments: [
        InvalidConfigCase(yaml: "apps: []", keyPath: "apps", line: 1, code: .missingValue),
        InvalidConfigCase(yaml: "apps:", keyPath: "apps", line: 1, code: .missingValue),
        InvalidConfigCase(
            yaml: "apps:\n  - { key: k, secret: s }",
            keyPath: "apps[0].id",
            line: 2,
            code: .missingValue
        ),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, secret: s }",
            keyPath: "apps[0].key",
            line: 2,
            code: .missingValue
        ),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, key: k }",
            keyPath: "apps[0].secret",
            line: 2,
            code: .missingValue
        ),
        InvalidConfigCase(yaml: "apps:\n  -", keyPath: "apps[0].id", line: 2, code: .missingValue),
        InvalidConfigCase(yaml: "apps:\n  - { id: '', key: k, secret: s }", keyPath: "apps[0].id", line: 2),
        InvalidConfigCase(yaml: "apps:\n  - { id: a, key: k, secret: '' }", keyPath: "apps[0].secret", line: 2),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, key: k, secret: 12345 }",
            keyPath: "apps[0].secret",
            line: 2,
            code: .wrongType
        ),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, key: k1, secret: s }\n  - id: a\n    key: k2\n    secret: s",
            keyPath: "apps[1].id",
            line: 3
        ),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, key: k, secret: s }\n  - { id: b, key: k, secret: s }",
            keyPath: "apps[1].key",
            line: 3
        ),
        InvalidConfigCase(
            yaml: "apps:\n  - { id: a, key: k, secret: s, user_authentication_timeout_seconds: 0 }",
            keyPath: "apps[0].user_authentication_timeout_seconds",
            line: 2
        ),
    ])
    func invalidAppIsRejectedAtItsLine(testCase: InvalidConfigCase) {
        let error = #expect(throws: ConfigError.self) { try load(testCase.yaml) }
        #expect(error?.code == testCase.code)
        #expect(error?.keyPath == testCase.keyPath)
        #expect(error?.line == testCase.line)
    }

    @Test(arguments: ["id", "key"], ["a/b", "a?b", "a#b", "a b", "a\\tb"])
    func idAndKeyRejectCharactersThatBreakURLPaths(field: String, value: String) {
        let app = field == "id" ? "{ id: \"\(value)\", key: k, secret: s }" : "{ id: a, key: \"\(value)\", secret: s }"
        let error = #expect(throws: ConfigError.self) { try load("apps:\n  - \(app)") }
        #expect(error?.code == .invalidValue)
        #expect(error?.keyPath == "apps[0].\(field)")
    }

    @Test func portZeroIsAcceptedSoTheOSCanChoose() throws {
        #expect(try load("\(minimalYAML)\nserver: { port: 0 }").server.port == 0)
    }

    @Test func unknownBackboneKindListsTheAcceptedKinds() {
        let error = #expect(throws: ConfigError.self) { try load("\(minimalYAML)\nbackbone: { kind: redis }") }
        #expect(error?.message == "unknown backbone kind 'redis'; accepted: in-process, nats")
    }

    @Test func equalPayloadAndEventLimitsAreAccepted() throws {
        let limits = try load("\(minimalYAML)\nlimits: { max_payload_bytes: 500, max_event_bytes: 500 }").limits
        #expect(limits.maxPayloadBytes == 500)
        #expect(limits.maxEventBytes == 500)
    }
}
