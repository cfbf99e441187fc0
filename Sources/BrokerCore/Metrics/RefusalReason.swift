/// Why the broker refused something a client or app server did: the `limit` label of
/// `switchboard_refusals_total`. A closed set, so the label's cardinality is bounded.
public enum RefusalReason: String, Sendable, CaseIterable {
    case unknownApp = "unknown_app"
    case appDisabled = "app_disabled"
    case protocolVersion = "protocol_version"
    case connectionQuota = "connection_quota"
    case nodeCapacity = "node_capacity"
    case origin
    case payloadSize = "payload_size"
    case inboundRate = "inbound_rate"
    case malformed
    case invalidChannel = "invalid_channel"
    case channelsPerConnection = "channels_per_connection"
    case authorization
    case presenceMembers = "presence_members"
    case presenceData = "presence_data"
    case presenceUnavailable = "presence_unavailable"
    case clientEventRejected = "client_event_rejected"
    case clientEventRate = "client_event_rate"
    case eventSize = "event_size"
    case signIn = "sign_in"
    case httpRate = "http_rate"
    case httpSignature = "http_signature"
    case httpRequest = "http_request"
    case httpBodySize = "http_body_size"
}
