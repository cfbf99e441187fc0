import BrokerConfig
import Foundation
import Testing

@Suite struct ConfigLoaderTests {
    @Test func minimalFileTakesEveryDefault() throws {
        let config = try load(minimalYAML)
        #expect(config == Config(apps: [AppConfiguration(id: "1", key: "app-key", secret: "s3cret")]))
    }

    @Test func sectionWithEveryEntryCommentedOutTakesDefaults() throws {
        let config = try load(
            """
            limits:
              # max_payload_bytes: 1
            drain:
            \(minimalYAML)
            """
        )
        #expect(config.limits == Limits())
        #expect(config.drain == DrainConfiguration())
    }

    @Test func everyKeyIsRead() throws {
        let config = try load(
            """
            server:
              host: 127.0.0.1
              port: 7001
              event_loops: 3
              metrics_token: 0123456789abcdef0123
            backbone:
              kind: in-process
            limits:
              max_payload_bytes: 2001
              max_event_bytes: 2000
              client_events_per_second: 3
              activity_timeout_seconds: 4
              pong_timeout_seconds: 5
              max_channels_per_connection: 6
              max_channels_per_trigger: 7
              max_batch_size: 8
              max_event_name_length: 9
              max_presence_members: 10
              max_presence_user_info_bytes: 11
              max_user_id_length: 12
              auth_timestamp_window_seconds: 13
              max_http_body_bytes: 14
              client_events_burst: 17
              inbound_messages_per_second: 18
              inbound_messages_burst: 19
              inbound_violations_before_close: 20
              max_outbound_buffer_bytes: 21
              handshake_timeout_seconds: 22
              max_http_header_bytes: 23
              http_requests_per_second: 24
              http_requests_burst: 25
              max_connections: 26
            drain:
              grace_seconds: 15
            apps:
              - id: 1
                key: first-key
                secret: first-secret
                client_events: true
                enabled: false
                user_authentication_timeout_seconds: 16
                max_connections: 27
                allowed_origins:
                  - https://app.example.com
                  - "*.example.com"
                limits:
                  client_events_per_second: 28
              - { id: two, key: second-key, secret: second-secret }
            """
        )
        let limits = Limits(
            maxPayloadBytes: 2001,
            maxEventBytes: 2000,
            clientEventsPerSecond: 3,
            activityTimeoutSeconds: 4,
            pongTimeoutSeconds: 5,
            maxChannelsPerConnection: 6,
            maxChannelsPerTrigger: 7,
            maxBatchSize: 8,
            maxEventNameLength: 9,
            maxPresenceMembers: 10,
            maxPresenceUserInfoBytes: 11,
            maxUserIDLength: 12,
            authTimestampWindowSeconds: 13,
            maxHTTPBodyBytes: 14,
            clientEventsBurst: 17,
            inboundMessagesPerSecond: 18,
            inboundMessagesBurst: 19,
            inboundViolationsBeforeClose: 20,
            maxOutboundBufferBytes: 21,
            handshakeTimeoutSeconds: 22,
            maxHTTPHeaderBytes: 23,
            httpRequestsPerSecond: 24,
            httpRequestsBurst: 25,
            maxConnections: 26
        )
        var firstAppLimits = limits
        firstAppLimits.clientEventsPerSecond = 28
        let expected = Config(
            server: ServerConfiguration(host: "127.0.0.1", port: 7001, eventLoops: 3, metricsToken: "0123456789abcdef0123"),
            backbone: BackboneConfiguration(kind: .inProcess),
            limits: limits,
            drain: DrainConfiguration(graceSeconds: 15),
            apps: [
                AppConfiguration(
                    id: "1",
                    key: "first-key",
                    secret: "first-secret",
                    clientEvents: true,
                    enabled: false,
                    userAuthenticationTimeoutSeconds: 16,
                    maxConnections: 27,
                    allowedOrigins: ["https://app.example.com", "*.example.com"],
                    limits: firstAppLimits
                ),
                AppConfiguration(id: "two", key: "second-key", secret: "second-secret", limits: limits),
            ]
        )
        #expect(config == expected)
    }

    @Test func emptyFileFailsOnlyForWantOfApps() {
        let error = #expect(throws: ConfigError.self) { try load("") }
        #expect(error?.code == .missingValue)
        #expect(error?.keyPath == "apps")
        #expect(error?.line == nil)
        #expect(error?.description == "test.yaml: apps: at least one app is required")
    }

    @Test func fileIsReadFromDisk() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-config-\(UInt64.random(in: 0 ... .max)).yaml").path
        try minimalYAML.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let config = try ConfigLoader.load(contentsOf: path, environment: [:])
        #expect(config.apps.map(\.key) == ["app-key"])
    }

    @Test func missingFileIsAnUnreadableFileError() {
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.load(contentsOf: "/nonexistent/switchboard.yaml", environment: [:])
        }
        #expect(error?.code == .unreadableFile)
        #expect(error?.file == "/nonexistent/switchboard.yaml")
        #expect(error?.line == nil)
    }

    /// Guards the shipped development config, which `swift package validate-config` checks by default.
    @Test func repositoryDefaultConfigLoadsAndKeepsTheDocumentedDefaults() throws {
        let config = try ConfigLoader.load(contentsOf: repositoryConfigPath, environment: [:])
        let expected = Config(
            server: ServerConfiguration(host: "0.0.0.0", port: 6001),
            drain: DrainConfiguration(graceSeconds: 30),
            apps: [AppConfiguration(id: "1", key: "app-key", secret: "app-secret", clientEvents: true)]
        )
        #expect(config == expected)
    }

    /// The commented `limits:` block of the shipped file is the reference users
    /// read: it must name every limit, and uncommented it must equal the defaults.
    @Test func repositoryDefaultConfigCommentsListEveryLimitWithItsDefault() throws {
        let text = try String(contentsOfFile: repositoryConfigPath, encoding: .utf8)
        let limitNames = Config(apps: []).summary.compactMap { line -> String? in
            guard line.hasPrefix("limits.") else { return nil }
            return String(line.dropFirst("limits.".count).prefix(while: { $0 != ":" }))
        }
        let commentedLimits = limitNames.map { "  # \($0): " }
        #expect(limitNames.count == 24)
        for commented in commentedLimits {
            #expect(text.contains(commented), "Config/switchboard.yaml does not document \(commented)")
        }

        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            commentedLimits.contains(where: { line.hasPrefix($0) }) ? "  " + line.dropFirst(4) : line
        }.joined(separator: "\n")
        let config = try ConfigLoader.load(yaml: uncommented, file: repositoryConfigPath, environment: [:])
        #expect(config.limits == Limits())
    }
}

/// `Config/switchboard.yaml`, found from this file so the test runs from any directory.
private let repositoryConfigPath = URL(filePath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appending(path: "Config/switchboard.yaml").path
