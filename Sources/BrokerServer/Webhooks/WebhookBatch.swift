/// One recorded event on its way out: its JSON, encoded once, and the endpoints that
/// asked for it.
struct WebhookPendingEvent {
    var appIndex: Int
    /// Indexes into the dispatcher's endpoint table; may be empty for a vacate held only
    /// so that a later occupy can be cancelled against it.
    var endpoints: [Int]
    var json: [UInt8]

    /// Places the event takes in the bounded queue while it is held: at least one, so
    /// holds count against the bound even when no endpoint wants the event itself.
    var holdCost: Int { max(1, self.endpoints.count) }
}

/// Events for one endpoint that go out as one POST (at most the configured count).
struct WebhookBatch {
    var endpoint: Int
    var events: [[UInt8]]

    /// The request body Pusher sends: `{"time_ms":…,"events":[…]}`, with the events'
    /// JSON copied in as encoded at record time.
    func body(timeMilliseconds: Int64) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(self.events.reduce(40) { $0 + $1.count + 1 })
        output.append(contentsOf: #"{"time_ms":"#.utf8)
        output.append(contentsOf: String(timeMilliseconds).utf8)
        output.append(contentsOf: #","events":["#.utf8)
        for (offset, event) in self.events.enumerated() {
            if offset > 0 {
                output.append(UInt8(ascii: ","))
            }
            output.append(contentsOf: event)
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }
}
