public import BrokerConfig
public import PusherProtocol

/// One configured app at run time: its settings and the signers built from its secret.
///
/// Built once at start-up and shared by every connection of the app, so signature
/// checks never rebuild HMAC keys.
public final class App: Sendable {
    public let configuration: AppConfiguration
    public let channelAuthorization: ChannelAuthorization
    public let requestSignature: RequestSignature

    public var id: String { self.configuration.id }
    public var key: String { self.configuration.key }

    public init(configuration: AppConfiguration, limits: Limits) {
        self.configuration = configuration
        self.channelAuthorization = ChannelAuthorization(appKey: configuration.key, secret: configuration.secret)
        self.requestSignature = RequestSignature(
            appKey: configuration.key,
            secret: configuration.secret,
            timestampWindowSeconds: limits.authTimestampWindowSeconds
        )
    }
}

/// The configured apps, found by key (WebSocket path) or id (HTTP API path).
public struct AppRegistry: Sendable {
    private let byKey: [String: App]
    private let byID: [String: App]

    public init(configuration: Config) {
        let apps = configuration.apps.map { App(configuration: $0, limits: configuration.limits) }
        self.byKey = Dictionary(apps.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        self.byID = Dictionary(apps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func app(key: String) -> App? { self.byKey[key] }
    public func app(id: String) -> App? { self.byID[id] }
}
