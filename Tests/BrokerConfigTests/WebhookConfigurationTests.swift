import BrokerConfig
import Testing

@Suite struct WebhookConfigurationTests {
    @Test func absentWebhooksMeansNone() throws {
        let config = try load(minimalYAML)
        #expect(config.apps[0].webhooks.isEmpty)
    }

    @Test func endpointsAreReadInOrderWithTheirEvents() throws {
        let config = try load(
            """
            apps:
              - id: "1"
                key: a
                secret: s
                webhooks:
                  - url: https://hooks.example.com/pusher
                    event_types: [channel_occupied, channel_vacated]
                  - { url: "${HOOK_URL}", event_types: [client_event] }
            """,
            environment: ["HOOK_URL": "http://127.0.0.1:9000/hook"]
        )
        #expect(
            config.apps[0].webhooks == [
                WebhookConfiguration(
                    url: "https://hooks.example.com/pusher",
                    eventTypes: ["channel_occupied", "channel_vacated"]
                ),
                WebhookConfiguration(url: "http://127.0.0.1:9000/hook", eventTypes: ["client_event"]),
            ]
        )
    }

    @Test func everyPusherEventTypeIsAccepted() throws {
        let names = WebhookConfiguration.eventTypes.sorted().joined(separator: ", ")
        let config = try load(
            "apps:\n  - { id: \"1\", key: a, secret: s, webhooks: [{ url: \"http://h/\", event_types: [\(names)] }] }"
        )
        #expect(config.apps[0].webhooks[0].eventTypes == WebhookConfiguration.eventTypes)
    }

    @Test func unknownEventTypeIsNamedByIndexAndLineWithTheAcceptedNames() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - id: "1"
                    key: a
                    secret: s
                    webhooks:
                      - url: https://hooks.example.com/
                        event_types:
                          - channel_occupied
                          - channel_vaccated
                """
            )
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.keyPath == "apps[0].webhooks[0].event_types[1]")
        #expect(error?.line == 9)
        #expect(
            error?.message
                == "unknown webhook event; expected one of: cache_miss, channel_occupied, channel_vacated, "
                + "client_event, member_added, member_removed, subscription_count"
        )
    }

    @Test(arguments: [
        ("{ url: https://h/ }", "apps[0].webhooks[0].event_types", ConfigError.Code.missingValue),
        ("{ url: https://h/, event_types: [] }", "apps[0].webhooks[0].event_types", .missingValue),
        ("{ event_types: [cache_miss] }", "apps[0].webhooks[0].url", .missingValue),
        ("{ url: ftp://h/, event_types: [cache_miss] }", "apps[0].webhooks[0].url", .invalidValue),
        ("{ url: hooks.example.com, event_types: [cache_miss] }", "apps[0].webhooks[0].url", .invalidValue),
        ("{ url: 'https://', event_types: [cache_miss] }", "apps[0].webhooks[0].url", .invalidValue),
        ("{ url: 'http://a b/', event_types: [cache_miss] }", "apps[0].webhooks[0].url", .invalidValue),
        ("{ url: https://h/, event_types: [cache_miss], secret: x }", "apps[0].webhooks[0].secret", .unknownKey),
        ("{ url: https://h/, event_types: cache_miss }", "apps[0].webhooks[0].event_types", .wrongType),
    ])
    func badEndpointIsNamedByKeyPath(entry: String, keyPath: String, code: ConfigError.Code) {
        let error = #expect(throws: ConfigError.self) {
            try load("apps:\n  - id: \"1\"\n    key: a\n    secret: s\n    webhooks:\n      - \(entry)")
        }
        #expect(error?.code == code)
        #expect(error?.keyPath == keyPath)
        #expect(error?.line == 6)
    }

    @Test func webhooksMustBeAList() {
        let error = #expect(throws: ConfigError.self) {
            try load("apps:\n  - { id: \"1\", key: a, secret: s, webhooks: { url: \"https://h/\" } }")
        }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == "apps[0].webhooks")
    }

    @Test func summaryListsEachEndpointWithSortedEventsOnlyWhenConfigured() throws {
        let config = try load(
            """
            apps:
              - id: "1"
                key: a
                secret: s
                webhooks:
                  - { url: "https://h/one", event_types: [member_removed, channel_vacated, cache_miss] }
                  - { url: "http://h:8080/two", event_types: [client_event] }
              - { id: "2", key: b, secret: s }
            """
        )
        let summary = config.summary
        #expect(
            summary.filter { $0.contains(".webhooks") } == [
                "apps[0].webhooks[0]: https://h/one (cache_miss, channel_vacated, member_removed)",
                "apps[0].webhooks[1]: http://h:8080/two (client_event)",
            ]
        )
        #expect(summary.firstIndex(of: "apps[0].webhooks[1]: http://h:8080/two (client_event)")! + 1
            == summary.firstIndex(of: "apps[1].id: 2")!)
    }

    @Test func summaryHidesCredentialsAndQueryOfAWebhookURL() throws {
        let config = try load(
            """
            apps:
              - id: "1"
                key: a
                secret: s
                webhooks:
                  - { url: "https://hook:p4ss@h/in?token=t0ken", event_types: [client_event] }
            """
        )
        let line = try #require(config.summary.first { $0.contains(".webhooks") })
        #expect(!line.contains("p4ss") && !line.contains("t0ken") && !line.contains("hook:"))
        #expect(line.hasPrefix("apps[0].webhooks[0]: https://"))
    }
}
