/// A validated Switchboard configuration: what `switchboard serve` runs with and
/// what `switchboard check-config` prints.
///
/// Every field has a default, so an empty YAML document is a valid single-node
/// development config except for `apps`, which must name at least one app.
/// Values only reach this type through ``ConfigLoader``, which has already
/// checked ranges and cross-field rules; consumers never re-validate.
public struct Config: Sendable, Equatable {
    public var server: ServerConfiguration
    public var backbone: BackboneConfiguration
    public var limits: Limits
    public var drain: DrainConfiguration
    public var apps: [AppConfiguration]

    public init(
        server: ServerConfiguration = .init(),
        backbone: BackboneConfiguration = .init(),
        limits: Limits = .init(),
        drain: DrainConfiguration = .init(),
        apps: [AppConfiguration]
    ) {
        self.server = server
        self.backbone = backbone
        self.limits = limits
        self.drain = drain
        self.apps = apps
    }
}

/// `server:` — where the single listener (WebSocket and HTTP API share it) binds.
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// When set, the listener speaks TLS only: `wss://` and `https://` on the same port.
    public var tls: ServerTLSConfiguration?
    /// Peers whose `X-Forwarded-For` is believed: the load balancers in front of the node.
    /// From anyone else the header is ignored, so a client cannot choose the address it
    /// is logged under.
    public var trustedProxies: [IPAddressRange]
    /// NIO event loops, each a thread owning its sockets and a shard of the rooms; `nil`:
    /// one per CPU the process may run on. Set it where that count misleads, such as a
    /// container whose CPU share is fractional.
    public var eventLoops: Int?
    /// When set, `GET /metrics` answers only requests bearing it
    /// (`Authorization: Bearer <token>`): the listener is public, and the metrics name
    /// every app and its traffic.
    public var metricsToken: String?

    public init(
        host: String = "0.0.0.0",
        port: Int = 6001,
        tls: ServerTLSConfiguration? = nil,
        trustedProxies: [IPAddressRange] = [],
        eventLoops: Int? = nil,
        metricsToken: String? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.trustedProxies = trustedProxies
        self.eventLoops = eventLoops
        self.metricsToken = metricsToken
    }
}

/// `server.tls:` — PEM files, re-read on SIGHUP so certificates renew without a restart.
public struct ServerTLSConfiguration: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// `backbone:` — how nodes exchange events. The kind is an enum so a config naming an
/// unknown kind fails at load time rather than at the first publish.
public struct BackboneConfiguration: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case inProcess = "in-process"
        case nats
    }

    public var kind: Kind
    /// How this node names itself to the cluster (presence leases, query replies);
    /// `nil` lets the node pick hostname plus a random suffix at startup, so a
    /// restarted process never inherits a dead one's lease.
    public var nodeID: String?
    /// Only read when `kind` is `nats`.
    public var nats: NATSConfiguration

    public init(kind: Kind = .inProcess, nodeID: String? = nil, nats: NATSConfiguration = .init()) {
        self.kind = kind
        self.nodeID = nodeID
        self.nats = nats
    }
}

/// `limits:` — node-wide bounds on everything a client controls. Defaults follow
/// Pusher Channels' published limits so unmodified apps behave as they do there.
public struct Limits: Sendable, Equatable {
    /// Largest WebSocket message accepted; bigger frames close the socket with 1009
    /// before they are buffered in full.
    public var maxPayloadBytes: Int
    /// Largest `data` of one event (HTTP API: 413; client event: `pusher:error`).
    public var maxEventBytes: Int
    /// Client events a connection may send per second before `pusher:error` 4301.
    public var clientEventsPerSecond: Int
    /// Seconds of client silence before the server sends `pusher:ping`; also the
    /// `activity_timeout` announced in `pusher:connection_established`.
    public var activityTimeoutSeconds: Int
    /// Seconds the server waits for any frame after its ping before closing with 4201.
    public var pongTimeoutSeconds: Int
    /// Channels one connection may be subscribed to at once.
    public var maxChannelsPerConnection: Int
    /// Channels named by one `POST /events` (`channels` array).
    public var maxChannelsPerTrigger: Int
    /// Events in one `POST /batch_events`.
    public var maxBatchSize: Int
    /// Characters in an event name.
    public var maxEventNameLength: Int
    /// Distinct users on one presence channel.
    public var maxPresenceMembers: Int
    /// Bytes of a presence member's JSON `user_info`.
    public var maxPresenceUserInfoBytes: Int
    /// Characters in a presence or signed-in user id.
    public var maxUserIDLength: Int
    /// Accepted clock skew, in seconds, of an HTTP API request's `auth_timestamp`.
    public var authTimestampWindowSeconds: Int
    /// Largest HTTP API request body; bigger bodies get 413 without being read in full.
    /// Node-wide only.
    public var maxHTTPBodyBytes: Int
    /// Client events saved up for a burst above ``clientEventsPerSecond``.
    public var clientEventsBurst: Int
    /// Frames of any kind a connection may send per second; above it frames are dropped
    /// with `pusher:error` 4301 and counted as violations.
    public var inboundMessagesPerSecond: Int
    /// Frames saved up for a burst above ``inboundMessagesPerSecond``.
    public var inboundMessagesBurst: Int
    /// Violations within ten seconds after which the connection is closed with 4301.
    public var inboundViolationsBeforeClose: Int
    /// Bytes queued for a client that is not reading before it is closed with 4100.
    public var maxOutboundBufferBytes: Int
    /// Seconds a new TCP connection has to complete its HTTP request or WebSocket
    /// upgrade. Node-wide only.
    public var handshakeTimeoutSeconds: Int
    /// Bytes of an HTTP request line and headers. Node-wide only.
    public var maxHTTPHeaderBytes: Int
    /// HTTP API requests per second per app before 429.
    public var httpRequestsPerSecond: Int
    /// HTTP API requests saved up for a burst above ``httpRequestsPerSecond``.
    public var httpRequestsBurst: Int
    /// Open WebSocket connections on this node; `nil` is unlimited. Over it new sockets
    /// are closed with 4100 so clients back off. Node-wide only.
    public var maxConnections: Int?

    public init(
        maxPayloadBytes: Int = 102_400,
        maxEventBytes: Int = 10_240,
        clientEventsPerSecond: Int = 10,
        activityTimeoutSeconds: Int = 120,
        pongTimeoutSeconds: Int = 30,
        maxChannelsPerConnection: Int = 100,
        maxChannelsPerTrigger: Int = 100,
        maxBatchSize: Int = 10,
        maxEventNameLength: Int = 200,
        maxPresenceMembers: Int = 100,
        maxPresenceUserInfoBytes: Int = 1_024,
        maxUserIDLength: Int = 128,
        authTimestampWindowSeconds: Int = 600,
        maxHTTPBodyBytes: Int = 1_048_576,
        clientEventsBurst: Int = 10,
        inboundMessagesPerSecond: Int = 100,
        inboundMessagesBurst: Int = 200,
        inboundViolationsBeforeClose: Int = 10,
        maxOutboundBufferBytes: Int = 1_048_576,
        handshakeTimeoutSeconds: Int = 10,
        maxHTTPHeaderBytes: Int = 16_384,
        httpRequestsPerSecond: Int = 1_000,
        httpRequestsBurst: Int = 2_000,
        maxConnections: Int? = nil
    ) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxEventBytes = maxEventBytes
        self.clientEventsPerSecond = clientEventsPerSecond
        self.activityTimeoutSeconds = activityTimeoutSeconds
        self.pongTimeoutSeconds = pongTimeoutSeconds
        self.maxChannelsPerConnection = maxChannelsPerConnection
        self.maxChannelsPerTrigger = maxChannelsPerTrigger
        self.maxBatchSize = maxBatchSize
        self.maxEventNameLength = maxEventNameLength
        self.maxPresenceMembers = maxPresenceMembers
        self.maxPresenceUserInfoBytes = maxPresenceUserInfoBytes
        self.maxUserIDLength = maxUserIDLength
        self.authTimestampWindowSeconds = authTimestampWindowSeconds
        self.maxHTTPBodyBytes = maxHTTPBodyBytes
        self.clientEventsBurst = clientEventsBurst
        self.inboundMessagesPerSecond = inboundMessagesPerSecond
        self.inboundMessagesBurst = inboundMessagesBurst
        self.inboundViolationsBeforeClose = inboundViolationsBeforeClose
        self.maxOutboundBufferBytes = maxOutboundBufferBytes
        self.handshakeTimeoutSeconds = handshakeTimeoutSeconds
        self.maxHTTPHeaderBytes = maxHTTPHeaderBytes
        self.httpRequestsPerSecond = httpRequestsPerSecond
        self.httpRequestsBurst = httpRequestsBurst
        self.maxConnections = maxConnections
    }
}

/// `drain:` — graceful shutdown on deploy.
public struct DrainConfiguration: Sendable, Equatable {
    /// Seconds over which open connections are closed with 4200 on SIGTERM.
    public var graceSeconds: Int

    public init(graceSeconds: Int = 30) {
        self.graceSeconds = graceSeconds
    }
}

/// One entry of `apps:`. `id` names the app in the HTTP API path, `key` in the
/// WebSocket path and every signature; `secret` signs and never leaves the node.
public struct AppConfiguration: Sendable, Equatable {
    public var id: String
    public var key: String
    public var secret: String
    /// Whether `client-*` events are relayed on private and presence channels.
    public var clientEvents: Bool
    /// A disabled app's sockets are closed with 4003 and its HTTP API answers 403.
    public var enabled: Bool
    /// When set, a socket that has not completed `pusher:signin` within this many
    /// seconds is closed with 4009.
    public var userAuthenticationTimeoutSeconds: Int?
    /// Open WebSocket connections of this app on this node; `nil` is unlimited. Over it
    /// new sockets are closed with 4004.
    public var maxConnections: Int?
    /// `Origin` header values allowed to open a WebSocket; empty allows any. An entry
    /// `*.example.com` allows every subdomain of example.com over http and https.
    public var allowedOrigins: [String]
    /// The node's `limits:` with this app's `apps[].limits` overrides applied; what the
    /// app's connections and HTTP requests are held to.
    public var limits: Limits
    /// Where the app's webhooks go and which events each endpoint wants.
    public var webhooks: [WebhookConfiguration]

    public init(
        id: String,
        key: String,
        secret: String,
        clientEvents: Bool = false,
        enabled: Bool = true,
        userAuthenticationTimeoutSeconds: Int? = nil,
        maxConnections: Int? = nil,
        allowedOrigins: [String] = [],
        limits: Limits = Limits(),
        webhooks: [WebhookConfiguration] = []
    ) {
        self.id = id
        self.key = key
        self.secret = secret
        self.clientEvents = clientEvents
        self.enabled = enabled
        self.userAuthenticationTimeoutSeconds = userAuthenticationTimeoutSeconds
        self.maxConnections = maxConnections
        self.allowedOrigins = allowedOrigins
        self.limits = limits
        self.webhooks = webhooks
    }
}

/// One entry of `apps[].webhooks`: an endpoint and the events it receives.
public struct WebhookConfiguration: Sendable, Equatable {
    /// The event names Pusher defines for webhooks.
    public static let eventTypes: Set<String> = [
        "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss",
        "subscription_count",
    ]

    /// An `http://` or `https://` URL.
    public var url: String
    /// A subset of ``eventTypes``; never empty.
    public var eventTypes: Set<String>

    public init(url: String, eventTypes: Set<String>) {
        self.url = url
        self.eventTypes = eventTypes
    }
}

/// Printed or logged by accident (a `String(describing:)` of something holding a
/// config), an app never shows its secret, and a webhook never its URL's credentials.
extension AppConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "AppConfiguration(id: \(self.id), key: \(self.key), secret: ********, webhooks: \(self.webhooks.count))"
    }

    public var debugDescription: String { self.description }
}
