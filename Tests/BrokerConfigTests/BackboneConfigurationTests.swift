import BrokerConfig
import Testing

@Suite struct BackboneConfigurationTests {
    @Test func natsSettingsAreRead() throws {
        let backbone = try load(
            """
            \(minimalYAML)
            backbone:
              kind: nats
              node_id: node-1
              nats:
                urls: [nats://10.0.0.1:4222, "tls://nats.internal:4443"]
                user: switchboard
                password: "${NATS_PASSWORD}"
                lease_ttl_seconds: 6
                request_timeout_ms: 250
            """,
            environment: ["NATS_PASSWORD": "hunter2"]
        ).backbone
        #expect(backbone.kind == .nats)
        #expect(backbone.nodeID == "node-1")
        #expect(backbone.nats.urls == ["nats://10.0.0.1:4222", "tls://nats.internal:4443"])
        #expect(backbone.nats.authentication == .userPassword(user: "switchboard", password: "hunter2"))
        #expect(backbone.nats.leaseTTLSeconds == 6)
        #expect(backbone.nats.requestTimeoutMilliseconds == 250)
    }

    @Test func defaultsNeedNoNATSSection() throws {
        let backbone = try load("\(minimalYAML)\nbackbone: { kind: nats }").backbone
        #expect(backbone.nats == NATSConfiguration())
        #expect(backbone.nats.urls == ["nats://127.0.0.1:4222"])
        #expect(backbone.nats.leaseTTLSeconds == 15)
        #expect(backbone.nodeID == nil)
    }

    @Test(arguments: [
        InvalidConfigCase(yaml: "backbone: { kind: nats, node_id: 'a.b' }", keyPath: "backbone.node_id", line: 3),
        InvalidConfigCase(yaml: "backbone: { kind: nats, nats: { urls: [] } }", keyPath: "backbone.nats.urls", line: 3),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { urls: ['http://x:4222'] } }", keyPath: "backbone.nats.urls[0]", line: 3
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { lease_ttl_seconds: 2 } }", keyPath: "backbone.nats.lease_ttl_seconds", line: 3
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { request_timeout_ms: 5 } }", keyPath: "backbone.nats.request_timeout_ms",
            line: 3
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { token: t, user: u, password: p } }", keyPath: "backbone.nats.user", line: 3
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { user: u } }", keyPath: "backbone.nats.password", line: 3,
            code: .missingValue
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { credentials_file: /nonexistent.creds } }",
            keyPath: "backbone.nats.credentials_file", line: 3
        ),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { tls: { cert_file: /etc/hostname } } }",
            keyPath: "backbone.nats.tls.key_file", line: 3, code: .missingValue
        ),
        InvalidConfigCase(yaml: "backbone: { nats: { urls: ['nats://x:1'] } }", keyPath: "backbone.nats", line: 3),
        InvalidConfigCase(
            yaml: "backbone: { kind: nats, nats: { url: 'nats://x:1' } }", keyPath: "backbone.nats.url", line: 3,
            code: .unknownKey
        ),
    ])
    func badNATSSettingIsNamed(testCase: InvalidConfigCase) {
        testCase.expectRejected()
    }

    @Test func natsSectionWithoutTheNATSKindSaysSo() {
        let error = #expect(throws: ConfigError.self) { try load("\(minimalYAML)\nbackbone: { nats: {} }") }
        #expect(error?.message == "is only read with kind: nats (kind is in-process)")
    }

    @Test func summaryMasksCredentialsAndNamesEveryNATSSetting() throws {
        let summary = try load(
            """
            \(minimalYAML)
            backbone:
              kind: nats
              nats: { urls: ["nats://user:pw@10.0.0.1:4222"], token: s3cr3t-token }
            """
        ).summary
        let text = summary.joined(separator: "\n")
        #expect(!text.contains("s3cr3t-token"))
        #expect(!text.contains("pw@"))
        #expect(summary.contains("backbone.nats.authentication: token ********"))
        #expect(summary.contains("backbone.nats.lease_ttl_seconds: 15"))
        #expect(summary.contains("backbone.node_id: hostname + random suffix"))
    }
}
