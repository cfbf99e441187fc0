import BrokerConfig
import Testing

@Suite struct AllowedOriginsTests {
    @Test func absentOrEmptyListAllowsAnyOrigin() throws {
        let config = try load(
            """
            apps:
              - { id: "1", key: a, secret: s }
              - { id: "2", key: b, secret: s, allowed_origins: [] }
              - { id: "3", key: c, secret: s, allowed_origins: }
            """
        )
        #expect(config.apps.map(\.allowedOrigins) == [[], [], []])
    }

    @Test func originsAreKeptAsWrittenAndMayComeFromTheEnvironment() throws {
        let config = try load(
            """
            apps:
              - id: "1"
                key: a
                secret: s
                allowed_origins:
                  - https://app.example.com
                  - http://localhost:3000
                  - "*.example.com"
                  - "${EXTRA_ORIGIN}"
            """,
            environment: ["EXTRA_ORIGIN": "https://admin.example.org"]
        )
        #expect(
            config.apps[0].allowedOrigins == [
                "https://app.example.com", "http://localhost:3000", "*.example.com", "https://admin.example.org",
            ]
        )
    }

    @Test(arguments: ["''", "'*'", "'*.'", "'https://*.example.com'", "'**.example.com'", "'*.*.example.com'"])
    func badOriginIsNamedByIndexAndLine(origin: String) {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - id: "1"
                    key: a
                    secret: s
                    allowed_origins:
                      - https://app.example.com
                      - \(origin)
                """
            )
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.keyPath == "apps[0].allowed_origins[1]")
        #expect(error?.line == 7)
    }

    @Test func wildcardErrorShowsTheAcceptedForm() {
        let error = #expect(throws: ConfigError.self) {
            try load("apps:\n  - { id: \"1\", key: a, secret: s, allowed_origins: [\"https://*.example.com\"] }")
        }
        #expect(
            error?.description
                == "test.yaml:2: apps[0].allowed_origins[0]: '*' is only allowed as a leading '*.', as in *.example.com"
        )
    }

    @Test(arguments: [
        ("allowed_origins: https://app.example.com", "apps[0].allowed_origins", "expected a list, found a string"),
        ("allowed_origins: [3000]", "apps[0].allowed_origins[0]", "expected a string, found an integer"),
        ("allowed_origins: [[a]]", "apps[0].allowed_origins[0]", "expected a string, found a list"),
        ("allowed_origins: [\"${UNSET}\"]", "apps[0].allowed_origins[0]", "environment variable UNSET is not set"),
    ])
    func originThatIsNotTextIsNamedByIndexAndLine(yaml: String, keyPath: String, message: String) {
        let error = #expect(throws: ConfigError.self) {
            try load("apps:\n  - id: \"1\"\n    key: a\n    secret: s\n    \(yaml)")
        }
        #expect(error?.keyPath == keyPath)
        #expect(error?.message == message)
        #expect(error?.line == 5)
    }
}
