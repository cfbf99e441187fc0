/// The few things the generator needs from a server frame, read without a JSON parser.
///
/// Switchboard writes `event` first (`ServerEvent.encode(into:)`), so the event name is
/// found at a fixed offset. A benchmark event's `data` is a JSON string holding
/// `{"t":<ns>,...}`, which arrives escaped as `{\"t\":<ns>,...`; only the digits after
/// that marker are read. Parsing every delivery fully would make the generator, not the
/// server, the bottleneck.
enum ServerMessage: Equatable {
    /// A published benchmark event and the publisher's clock when it was sent.
    case benchmarkEvent(sentAt: UInt64)
    case connectionEstablished
    case subscriptionSucceeded
    case ping
    case error
    case other

    /// The event name the publisher uses; subscribers look for exactly this.
    static let benchmarkEventName = "bench"

    private static let eventPrefix = Array(#"{"event":""#.utf8)
    private static let timestampMarker = Array(#"\"t\":"#.utf8)
    private static let names: [(name: [UInt8], message: ServerMessage)] = [
        (Array("pusher:connection_established\"".utf8), .connectionEstablished),
        (Array("pusher_internal:subscription_succeeded\"".utf8), .subscriptionSucceeded),
        (Array("pusher:ping\"".utf8), .ping),
        (Array("pusher:error\"".utf8), .error),
    ]
    private static let benchmarkName = Array((benchmarkEventName + "\"").utf8)

    init(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.starts(with: Self.eventPrefix) else {
            self = .other
            return
        }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[Self.eventPrefix.count...])
        if rest.starts(with: Self.benchmarkName) {
            self = Self.timestamp(in: rest).map { .benchmarkEvent(sentAt: $0) } ?? .other
            return
        }
        for entry in Self.names where rest.starts(with: entry.name) {
            self = entry.message
            return
        }
        self = .other
    }

    /// The digits after the first `\"t\":` marker.
    private static func timestamp(in bytes: UnsafeRawBufferPointer) -> UInt64? {
        let marker = Self.timestampMarker
        guard bytes.count > marker.count else { return nil }
        var index = 0
        while index + marker.count < bytes.count {
            if bytes[index] == marker[0], bytes[index + 1] == marker[1], bytes[index + 2] == marker[2],
                bytes[index + 3] == marker[3], bytes[index + 4] == marker[4], bytes[index + 5] == marker[5]
            {
                var value: UInt64 = 0
                var digit = index + marker.count
                while digit < bytes.count, bytes[digit] >= UInt8(ascii: "0"), bytes[digit] <= UInt8(ascii: "9") {
                    value = value &* 10 &+ UInt64(bytes[digit] - UInt8(ascii: "0"))
                    digit += 1
                }
                return digit > index + marker.count ? value : nil
            }
            index += 1
        }
        return nil
    }
}
