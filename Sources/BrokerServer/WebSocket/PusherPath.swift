import BrokerCore

/// `/app/{key}?protocol=7&...`: the WebSocket path pusher-js and pysher connect to.
struct PusherPath {
    var appKey: String
    var protocolVersion: String?

    init?(_ uri: String) {
        let target = RequestTarget(uri)
        let segments = target.pathSegments
        guard segments.count == 2, segments[0] == "app", !segments[1].isEmpty else { return nil }
        self.appKey = segments[1]
        self.protocolVersion = target.query.last(where: { $0.name == "protocol" })?.value
    }
}

/// Why the node turns a WebSocket upgrade away before answering `101`.
///
/// One check for both places that make it: ``WebSocketUpgradeHandler`` declines the
/// upgrade on it, and the HTTP API then answers the same request with the status that
/// names the reason.
enum UpgradeRefusal {
    /// The node is draining: 503.
    case draining
    /// The app does not allow the request's `Origin`: 403.
    case originNotAllowed(App)

    /// `nil` when the upgrade may go ahead. Unknown app keys are not refused here: they
    /// get the close code pusher-js reads, after the upgrade.
    init?(appKey: String, origin: String?, broker: Broker) {
        if broker.isDraining {
            self = .draining
        } else if let app = broker.apps.app(key: appKey), !app.allowsOrigin(origin) {
            self = .originNotAllowed(app)
        } else {
            return nil
        }
    }
}
