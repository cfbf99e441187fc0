import Backbone
import BrokerCore
import CoreMetrics
import Crypto
import NIOHTTP1
public import Prometheus

/// `GET /metrics`: the node's Prometheus registry in the text exposition format.
///
/// Gauges that are cheaper to compute than to maintain (occupied channels and presence
/// members per app, summed over the shards and the roster) are refreshed on each scrape
/// rather than on every subscribe.
public struct MetricsEndpoint: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// SHA-256 of `Bearer <token>`: comparing digests takes the same time whatever the
    /// presented header, however long and however close to the real one.
    private let credentials: SHA256.Digest?

    /// - Parameter token: the bearer token scrapers must present; `nil` leaves the
    ///   endpoint open.
    public init(registry: PrometheusCollectorRegistry, token: String? = nil) {
        self.registry = registry
        self.credentials = token.map { SHA256.hash(data: Array("Bearer \($0)".utf8)) }
    }

    func authorize(_ authorization: String?) throws(APIError) {
        guard let credentials = self.credentials else { return }
        guard let authorization, SHA256.hash(data: Array(authorization.utf8)) == credentials else {
            throw .unauthorized(
                "GET /metrics needs the node's metrics token: Authorization: Bearer <server.metrics_token>",
                scheme: #"Bearer realm="metrics""#
            )
        }
    }

    func render(_ broker: Broker) async -> APIResponse {
        for app in broker.apps.all {
            // This node's rooms: a cluster-wide figure would make each scrape wait on every node.
            let occupied = await broker.localOccupancy(app: app.id, prefix: nil)
            app.metrics.occupiedChannels.record(occupied.count)
            var members = 0
            for channel in occupied.keys where channel.hasPrefix("presence-") {
                members += await broker.backbone.members(app: app.id, channel: channel).count
            }
            app.metrics.presenceMembers.record(members)
        }
        return APIResponse(
            status: .ok,
            text: self.registry.emitToString(),
            contentType: "text/plain; version=0.0.4; charset=utf-8"
        )
    }
}
