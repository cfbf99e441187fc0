public import CoreMetrics

/// Node-wide metrics: the backbone and the drain. Created once per broker.
public struct NodeMetrics: Sendable {
    public let backbonePublished = Counter(label: "switchboard_backbone_events_total", dimensions: [("direction", "published")])
    public let backboneReceived = Counter(label: "switchboard_backbone_events_total", dimensions: [("direction", "received")])
    /// Events the backbone could not forward; always 0 in process, counted by the NATS backbone.
    public let backboneDropped = Counter(label: "switchboard_backbone_dropped_total")
    /// 1 while the backbone can reach the cluster; the in-process backbone always can.
    public let backboneConnected = Gauge(label: "switchboard_backbone_connected")
    public let draining = Gauge(label: "switchboard_draining")
    public let drainedConnections = Counter(label: "switchboard_drained_connections_total")
    /// Refusals before a socket belongs to a known app (unknown key).
    public let unknownAppRefusals = Counter(label: "switchboard_refusals_total", dimensions: [("app", ""), ("limit", RefusalReason.unknownApp.rawValue)])

    public init() {}
}
