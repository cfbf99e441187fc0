public import BrokerConfig
import NIOConcurrencyHelpers
public import NIOCore
public import PusherProtocol
import Synchronization

/// One configured app at run time: its settings, the signers built from its secret, and
/// the counters its quotas are enforced against.
///
/// Built once at start-up and shared by every connection of the app, so signature
/// checks never rebuild HMAC keys.
public final class App: Sendable {
    public let configuration: AppConfiguration
    public let channelAuthorization: ChannelAuthorization
    public let requestSignature: RequestSignature
    public let metrics: AppMetrics
    /// Whether a webhook wants `channel_occupied` or `channel_vacated`: only then does a
    /// cluster keep track of which nodes each channel has subscribers on.
    public let tracksOccupancy: Bool
    /// Open sockets of this app on this node, for ``AppConfiguration/maxConnections``.
    let connectionCount = Atomic<Int>(0)
    /// One bucket for the app's HTTP API, shared by every event loop.
    private let httpRequests: NIOLockedValueBox<TokenBucket>

    public var id: String { self.configuration.id }
    public var key: String { self.configuration.key }
    /// The node's limits with this app's overrides applied.
    public var limits: Limits { self.configuration.limits }

    public init(configuration: AppConfiguration, now: NIODeadline = .now()) {
        self.configuration = configuration
        self.channelAuthorization = ChannelAuthorization(appKey: configuration.key, secret: configuration.secret)
        self.requestSignature = RequestSignature(
            appKey: configuration.key,
            secret: configuration.secret,
            timestampWindowSeconds: configuration.limits.authTimestampWindowSeconds
        )
        self.metrics = AppMetrics(appID: configuration.id)
        self.tracksOccupancy = configuration.webhooks.contains { webhook in
            !webhook.eventTypes.isDisjoint(with: ["channel_occupied", "channel_vacated"])
        }
        self.httpRequests = NIOLockedValueBox(
            TokenBucket(
                ratePerSecond: configuration.limits.httpRequestsPerSecond,
                burst: configuration.limits.httpRequestsBurst,
                now: now
            )
        )
    }

    /// Takes one HTTP API request from the app's budget.
    /// - Returns: `nil` when allowed, else how long until a request would be.
    public func admitHTTPRequest(now: NIODeadline = .now()) -> TimeAmount? {
        self.httpRequests.withLockedValue { $0.tryConsume(now: now) ? nil : $0.timeUntilNextToken(now: now) }
    }

    /// Whether a browser page at `origin` may open a socket for this app.
    public func allowsOrigin(_ origin: String?) -> Bool {
        OriginPolicy(allowed: self.configuration.allowedOrigins).allows(origin)
    }
}

/// The configured apps, found by key (WebSocket path) or id (HTTP API path).
public struct AppRegistry: Sendable {
    private let byKey: [String: App]
    private let byID: [String: App]

    public init(configuration: Config) {
        let apps = configuration.apps.map { App(configuration: $0) }
        self.byKey = Dictionary(apps.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        self.byID = Dictionary(apps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func app(key: String) -> App? { self.byKey[key] }
    public func app(id: String) -> App? { self.byID[id] }
    public var all: [App] { Array(self.byID.values) }
}
