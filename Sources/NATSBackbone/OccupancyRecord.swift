import PusherProtocol

/// Which nodes have subscribers on one channel, as stored under its key in the
/// occupancy bucket.
///
/// The channel is occupied across the cluster while the set is non-empty. Nodes change
/// it by compare-and-set (``RecordStore``), so exactly one node's write takes it from
/// empty to non-empty or back, and that node reports `channel_occupied` or
/// `channel_vacated`. Pure value: ``ClusterOccupancy`` does the reading and writing.
struct OccupancyRecord: BucketRecord {
    enum DecodingError: Error {
        case malformed
    }

    /// Sorted, so equal sets encode to equal bytes.
    private(set) var nodes: [String] = []

    var isEmpty: Bool { self.nodes.isEmpty }

    init() {}

    init(decoding bytes: [UInt8]) throws {
        guard case .array(let nodes)? = try JSONParser.parse(bytes: bytes)["nodes"] else { throw DecodingError.malformed }
        self.nodes = try nodes.map { value in
            guard let node = value.stringValue else { throw DecodingError.malformed }
            return node
        }.sorted()
    }

    var encoded: [UInt8] {
        var output: [UInt8] = []
        JSONValue.object([("nodes", .array(self.nodes.map(JSONValue.string)))]).serialize(into: &output)
        return output
    }

    /// Lists `node` exactly when `hasSubscribers`, and forgets every node not in `live`
    /// (when given): what a node's lease round does for nodes whose lease expired.
    mutating func assert(node: String, hasSubscribers: Bool, live: Set<String>?) {
        var nodes = Set(self.nodes)
        if let live { nodes.formIntersection(live) }
        if hasSubscribers { nodes.insert(node) } else { nodes.remove(node) }
        self.nodes = nodes.sorted()
    }
}
