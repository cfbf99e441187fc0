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
