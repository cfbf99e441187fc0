/// The few things the generator needs from a server frame, read without a JSON parser.
///
/// Switchboard writes `event` first (`ServerEvent.encode(into:)`), so the event name is
/// found at a fixed offset; a benchmark event's send time is read from its escaped
/// ``EventData``.
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
            self = EventData.timestamp(in: rest, escaped: true).map { .benchmarkEvent(sentAt: $0) } ?? .other
            return
        }
        for entry in Self.names where rest.starts(with: entry.name) {
            self = entry.message
            return
        }
        self = .other
    }
}
