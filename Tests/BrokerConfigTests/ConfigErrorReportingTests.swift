import BrokerConfig
import Testing

@Suite struct ConfigErrorReportingTests {
    @Test func unknownKeyIsNamedWithItsLineAndTheClosestKnownKey() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                limits:
                  max_event_bytes: 1000
                  max_payload_byte: 2000
                \(minimalYAML)
                """
            )
        }
        #expect(error?.code == .unknownKey)
        #expect(error?.line == 3)
        #expect(error?.keyPath == "limits.max_payload_byte")
        #expect(
            error?.description == "test.yaml:3: limits.max_payload_byte: unknown key; did you mean 'max_payload_bytes'?"
        )
    }

    @Test func unknownSectionSuggestsTheSectionName() {
        let error = #expect(throws: ConfigError.self) { try load("limit: {}\n\(minimalYAML)") }
        #expect(error?.keyPath == "limit")
        #expect(error?.line == 1)
        #expect(error?.message == "unknown key; did you mean 'limits'?")
    }

    @Test func unknownKeyFarFromAnyKnownKeyListsTheKnownKeys() {
        let error = #expect(throws: ConfigError.self) { try load("server: { address: x }\n\(minimalYAML)") }
        #expect(error?.keyPath == "server.address")
        #expect(error?.message == "unknown key; expected one of: host, port, tls, trusted_proxies, event_loops, metrics_token")
    }

    @Test func unknownKeyInsideAnAppIsNamedWithItsIndex() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - { id: "1", key: a, secret: s }
                  - id: "2"
                    key: b
                    secret: s
                    client_event: true
                """
            )
        }
        #expect(error?.keyPath == "apps[1].client_event")
        #expect(error?.line == 6)
        #expect(error?.message == "unknown key; did you mean 'client_events'?")
    }

    @Test(arguments: [
        ("server: { port: \"6001\" }", "server.port", "expected an integer, found a string"),
        ("server: { port: 60.5 }", "server.port", "expected an integer, found a decimal number"),
        ("server: { host: [a, b] }", "server.host", "expected a string, found a list"),
        ("server: { host: 8 }", "server.host", "expected a string, found an integer"),
        ("limits: { max_batch_size: many }", "limits.max_batch_size", "expected an integer, found a string"),
        ("drain: 30", "drain", "expected a mapping of keys to values, found an integer"),
    ])
    func wrongTypeNamesKeyExpectedTypeAndLine(yaml: String, keyPath: String, message: String) {
        let error = #expect(throws: ConfigError.self) { try load("\(minimalYAML)\n\(yaml)") }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == keyPath)
        #expect(error?.message == message)
        #expect(error?.line == 3)
    }

    @Test func appsThatAreNotAListAreAWrongTypeError() {
        let error = #expect(throws: ConfigError.self) { try load("apps: { id: x }") }
        #expect(error?.description == "test.yaml:1: apps: expected a list, found a mapping")
    }

    @Test func wrongTypeInsideAnAppNamesItsIndex() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - { id: "1", key: a, secret: s, client_events: "yes please" }
                """
            )
        }
        #expect(error?.description == "test.yaml:2: apps[0].client_events: expected true or false, found a string")
    }

    @Test func malformedYAMLReportsItsLine() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                server:
                  host: 0.0.0.0
                  port: [6001
                \(minimalYAML)
                """
            )
        }
        #expect(error?.code == .invalidYAML)
        #expect(error?.keyPath == nil)
        #expect(error?.line != nil)
    }

    @Test func duplicateKeyIsAnError() {
        let error = #expect(throws: ConfigError.self) {
            try load("server: { port: 1, port: 2 }\n\(minimalYAML)")
        }
        #expect(error?.code == .invalidYAML)
        #expect(error?.line == 1)
        #expect(error?.message.contains("port") == true)
    }

    @Test func descriptionOmitsTheLineWhenThereIsNone() {
        let error = ConfigError(code: .unreadableFile, file: "a.yaml", message: "gone")
        #expect(error.description == "a.yaml: gone")
    }

    /// Secrets reach error paths in many ways: a wrong type, a bad neighbour, a
    /// syntax error on their line. None may echo the value.
    @Test(arguments: [
        "apps:\n  - { id: \"1\", key: k, secret: [SECRET-VALUE] }",
        "apps:\n  - { id: \"1\", key: k, secret: SECRET-VALUE, enabled: maybe }",
        "apps:\n  - { id: \"1\", key: k, secret: SECRET-VALUE, secrte: SECRET-VALUE }",
        "apps:\n  - { id: \"1\", key: k, secret: \"SECRET-VALUE }",
        "apps:\n  - { id: \"1\", key: k, secret: \"${SECRET-VALUE}\" }",
        "apps:\n  - { id: \"1\", key: k, secret: SECRET-VALUE }\n  - { id: \"1\", key: j, secret: SECRET-VALUE }",
        "apps:\n  - { id: \"1\", key: k, secret: \"${S}${MISSING}\" }",
    ])
    func errorTextNeverContainsASecret(yaml: String) {
        let error = #expect(throws: ConfigError.self) { try load(yaml, environment: ["S": "SECRET-VALUE"]) }
        #expect(error.map { !"\($0)".contains("SECRET-VALUE") } == true)
    }
}
