import Testing

@testable import NATSBackbone

@Suite struct OccupancyRecordTests {
    @Test func theChannelIsOccupiedWhileAnyNodeListsItself() {
        var record = OccupancyRecord()
        record.assert(node: "b", hasSubscribers: true, live: nil)
        record.assert(node: "a", hasSubscribers: true, live: nil)
        #expect(record.nodes == ["a", "b"])
        record.assert(node: "b", hasSubscribers: false, live: nil)
        #expect(!record.isEmpty)
        record.assert(node: "a", hasSubscribers: false, live: nil)
        #expect(record.isEmpty)
    }

    @Test func assertingTwiceChangesNothing() {
        var record = OccupancyRecord()
        record.assert(node: "a", hasSubscribers: true, live: nil)
        let once = record
        record.assert(node: "a", hasSubscribers: true, live: nil)
        #expect(record == once)
    }

    @Test func nodesWithoutALeaseAreForgottenWhenLiveNodesAreGiven() {
        var record = OccupancyRecord()
        record.assert(node: "dead", hasSubscribers: true, live: nil)
        record.assert(node: "a", hasSubscribers: false, live: ["a", "b"])
        #expect(record.isEmpty, "the dead node's listing goes with its lease")
    }

    @Test func encodingRoundTripsAndRefusesOtherDocuments() throws {
        var record = OccupancyRecord()
        record.assert(node: "node-2", hasSubscribers: true, live: nil)
        record.assert(node: "node-1", hasSubscribers: true, live: nil)
        #expect(String(decoding: record.encoded, as: UTF8.self) == #"{"nodes":["node-1","node-2"]}"#)
        #expect(try OccupancyRecord(decoding: record.encoded) == record)
        #expect(throws: (any Error).self) { try OccupancyRecord(decoding: Array(#"{"members":[]}"#.utf8)) }
        #expect(throws: (any Error).self) { try OccupancyRecord(decoding: Array(#"{"nodes":[1]}"#.utf8)) }
    }
}
