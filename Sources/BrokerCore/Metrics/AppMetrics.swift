public import CoreMetrics
import NIOConcurrencyHelpers
public import NIOCore

/// The metrics of one app, created once when the app is loaded.
///
/// Handles are made up front because asking the metrics system for one takes a lock and
/// a registry lookup; the hot path then only increments an atomic. Labels are the app id
/// and small closed sets (close codes, refusal reasons, message sources), never a
/// channel name or a socket id.
public final class AppMetrics: Sendable {
    public let connections: Meter
    public let connectionsOpened: Counter
    let connectionDuration: CoreMetrics.Timer
    public let subscriptions: Meter
    public let occupiedChannels: Gauge
    public let presenceMembers: Gauge
    public let websocketMessagesIn: Counter
    public let websocketBytesIn: Counter
    public let httpMessagesIn: Counter
    public let httpBytesIn: Counter
    public let messagesOut: Counter
    public let bytesOut: Counter
    public let clientEvents: Counter
    public let slowConsumerCloses: Counter
    private let refusals: [RefusalReason: Counter]
    private let appID: String
    /// Close codes seen so far; a small set (Pusher's and RFC 6455's codes).
    private let closes = NIOLockedValueBox<[UInt16: Counter]>([:])

    public init(appID: String) {
        let app = [("app", appID)]
        self.appID = appID
        self.connections = Meter(label: "switchboard_connections", dimensions: app)
        self.connectionsOpened = Counter(label: "switchboard_connections_opened_total", dimensions: app)
        self.connectionDuration = CoreMetrics.Timer(label: "switchboard_connection_duration_seconds", dimensions: app)
        self.subscriptions = Meter(label: "switchboard_subscriptions", dimensions: app)
        self.occupiedChannels = Gauge(label: "switchboard_occupied_channels", dimensions: app)
        self.presenceMembers = Gauge(label: "switchboard_presence_members", dimensions: app)
        self.websocketMessagesIn = Counter(label: "switchboard_messages_in_total", dimensions: app + [("source", "websocket")])
        self.websocketBytesIn = Counter(label: "switchboard_bytes_in_total", dimensions: app + [("source", "websocket")])
        self.httpMessagesIn = Counter(label: "switchboard_messages_in_total", dimensions: app + [("source", "http")])
        self.httpBytesIn = Counter(label: "switchboard_bytes_in_total", dimensions: app + [("source", "http")])
        self.messagesOut = Counter(label: "switchboard_messages_out_total", dimensions: app)
        self.bytesOut = Counter(label: "switchboard_bytes_out_total", dimensions: app)
        self.clientEvents = Counter(label: "switchboard_client_events_total", dimensions: app)
        self.slowConsumerCloses = Counter(label: "switchboard_slow_consumer_closes_total", dimensions: app)
        self.refusals = Dictionary(
            // Unknown keys belong to no app: the node counts those (`NodeMetrics`).
            uniqueKeysWithValues: RefusalReason.allCases.filter { $0 != .unknownApp }.map {
                ($0, Counter(label: "switchboard_refusals_total", dimensions: app + [("limit", $0.rawValue)]))
            }
        )
    }

    public func refused(_ reason: RefusalReason) {
        self.refusals[reason]?.increment()
    }

    /// A connection of this app closed with `code` after `duration`.
    public func closed(code: UInt16, after duration: TimeAmount) {
        let counter = self.closes.withLockedValue { closes in
            if let counter = closes[code] { return counter }
            let counter = Counter(
                label: "switchboard_connections_closed_total",
                dimensions: [("app", self.appID), ("code", String(code))]
            )
            closes[code] = counter
            return counter
        }
        counter.increment()
        self.connections.decrement()
        self.connectionDuration.recordNanoseconds(duration.nanoseconds)
    }
}
