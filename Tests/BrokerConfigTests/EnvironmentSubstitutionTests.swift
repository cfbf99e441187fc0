import BrokerConfig
import Testing

@Suite struct EnvironmentSubstitutionTests {
    @Test func setVariableIsSubstituted() throws {
        let config = try load(
            """
            apps:
              - { id: "1", key: app-key, secret: "${APP_SECRET}" }
            """,
            environment: ["APP_SECRET": "from-env"]
        )
        #expect(config.apps[0].secret == "from-env")
    }

    @Test func referenceInsideLongerTextIsSubstitutedInPlace() throws {
        let config = try load(
            """
            server: { host: "${PREFIX}.internal" }
            apps:
              - { id: "1", key: "${ENV:-dev}-${REGION}-key", secret: s3cret }
            """,
            environment: ["PREFIX": "broker", "REGION": "eu"]
        )
        #expect(config.server.host == "broker.internal")
        #expect(config.apps[0].key == "dev-eu-key")
    }

    @Test(arguments: [[:], ["APP_SECRET": ""]])
    func defaultIsUsedWhenVariableIsUnsetOrEmpty(environment: [String: String]) throws {
        let config = try load(
            """
            apps:
              - { id: "1", key: app-key, secret: "${APP_SECRET:-fallback}" }
            """,
            environment: environment
        )
        #expect(config.apps[0].secret == "fallback")
    }

    @Test func substitutedValueTakesTheTypeTheKeyExpects() throws {
        let config = try load(
            """
            server: { port: "${PORT:-7001}" }
            drain: { grace_seconds: "${GRACE}" }
            apps:
              - { id: "${ID}", key: app-key, secret: "${SECRET}", client_events: "${CLIENT_EVENTS}" }
            """,
            environment: ["GRACE": "5", "ID": "42", "SECRET": "12345", "CLIENT_EVENTS": "true"]
        )
        #expect(config.server.port == 7001)
        #expect(config.drain.graceSeconds == 5)
        #expect(config.apps[0].id == "42")
        #expect(config.apps[0].secret == "12345")
        #expect(config.apps[0].clientEvents)
    }

    @Test func unsetVariableWithoutDefaultNamesKeyLineAndVariable() {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                server:
                  port: 6001
                apps:
                  - id: "1"
                    key: app-key
                    secret: ${APP_SECRET}
                """
            )
        }
        #expect(error?.code == .unsetVariable)
        #expect(error?.line == 6)
        #expect(error?.keyPath == "apps[0].secret")
        #expect(error?.description == "test.yaml:6: apps[0].secret: environment variable APP_SECRET is not set")
    }

    @Test func substitutedTextOfTheWrongTypeIsAWrongTypeError() {
        let error = #expect(throws: ConfigError.self) {
            try load("server: { port: \"${PORT}\" }\n\(minimalYAML)", environment: ["PORT": "http"])
        }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == "server.port")
        #expect(error?.message == "expected an integer, found a string")
    }

    @Test(arguments: ["${APP_SECRET", "${}", "${1ABC}", "${APP SECRET}", "${:-x}"])
    func malformedReferenceIsAnError(reference: String) {
        let error = #expect(throws: ConfigError.self) {
            try load(
                """
                apps:
                  - { id: "1", key: app-key, secret: "\(reference)" }
                """
            )
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.keyPath == "apps[0].secret")
        #expect(error?.line == 2)
    }
}
