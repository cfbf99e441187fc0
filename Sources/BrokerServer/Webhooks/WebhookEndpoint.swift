import BrokerConfig
import BrokerCore
import CoreMetrics
import PusherProtocol

/// One `apps[].webhooks[]` entry at run time, with what every POST to it needs built
/// once: the app key, the signer over the app secret and the URL.
struct WebhookEndpoint: Sendable {
    var appIndex: Int
    var appID: String
    var appKey: String
    var url: String
    var eventTypes: Set<String>
    var signature: HMACSignature

    /// The signed request Pusher would send: `X-Pusher-Signature` is the hex
    /// HMAC-SHA256 of the exact body under the app secret (PROTOCOL.md, "Webhooks"),
    /// so Pusher server SDKs' `validate_webhook` accept it.
    func makeRequest(body: [UInt8]) -> WebhookRequest {
        WebhookRequest(
            url: self.url,
            headers: [
                ("Content-Type", "application/json"),
                ("X-Pusher-Key", self.appKey),
                ("X-Pusher-Signature", self.signature.sign(body)),
            ],
            body: body
        )
    }
}

/// An app that has webhooks: its endpoints and its metrics, labelled by app id only so
/// the series count stays bounded by configuration, never by channel names.
struct WebhookApp: Sendable {
    var index: Int
    var endpoints: [Int]
    /// Every event name some endpoint of the app wants.
    var eventTypes: Set<String>
    var deliveries: Counter
    var failures: Counter
    var retries: Counter
    var dropped: Counter

    init(index: Int, id: String, endpoints: [Int], eventTypes: Set<String>) {
        self.index = index
        self.endpoints = endpoints
        self.eventTypes = eventTypes
        let dimensions = [("app", id)]
        self.deliveries = Counter(label: "switchboard_webhook_deliveries_total", dimensions: dimensions)
        self.failures = Counter(label: "switchboard_webhook_failures_total", dimensions: dimensions)
        self.retries = Counter(label: "switchboard_webhook_retries_total", dimensions: dimensions)
        self.dropped = Counter(label: "switchboard_webhook_dropped_total", dimensions: dimensions)
    }
}
