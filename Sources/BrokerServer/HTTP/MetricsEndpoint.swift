import Backbone
import BrokerCore
import CoreMetrics
import NIOHTTP1
public import Prometheus

/// `GET /metrics`: the node's Prometheus registry in the text exposition format.
///
/// Gauges that are cheaper to compute than to maintain (occupied channels and presence
/// members per app, summed over the shards and the roster) are refreshed on each scrape
/// rather than on every subscribe.
public struct MetricsEndpoint: Sendable {
    private let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
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
