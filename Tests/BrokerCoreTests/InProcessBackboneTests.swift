import Backbone
import NIOCore
import PusherProtocol
import Synchronization
import Testing

/// Collects what the backbone hands the node.
final class RecordingReceiver: BackboneReceiver {
    let events = Mutex<[BackboneEvent]>([])
    let terminated = Mutex<[String]>([])

    func deliver(_ event: BackboneEvent) {
        self.events.withLock { $0.append(event) }
    }

    func terminateUser(app: String, userID: String) {
        self.terminated.withLock { $0.append("\(app)/\(userID)") }
    }

    /// One channel with one subscriber, whatever is asked: enough to see the
    /// backbone pass the question to the node.
    func localOccupancy(app: String, prefix: String?) async -> [String: Int] {
        ["\(app):\(prefix ?? "")": 1]
    }

    let connected = Mutex<[Bool]>([])

    func backboneConnectionChanged(isConnected: Bool) {
        self.connected.withLock { $0.append(isConnected) }
    }

    func backboneDropped(events: Int) {}

    let occupancy = Mutex<[String]>([])

    func channelOccupancyChanged(app: String, channel: String, isOccupied: Bool) {
        self.occupancy.withLock { $0.append("\(isOccupied ? "occupied" : "vacated") \(app)/\(channel)") }
    }

    /// Delivered events as (excluded socket, frame JSON).
    var delivered: [(excluded: SocketID?, json: JSONValue)] {
        self.events.withLock { events in
            events.map { ($0.excludedSocket, try! JSONParser.parse(bytes: Array($0.payload.readableBytesView))) }
        }
    }
}

@Suite("In-process backbone")
struct InProcessBackboneTests {
    let s1 = SocketID(major: 1, minor: 1)
    let s2 = SocketID(major: 1, minor: 2)
    let s3 = SocketID(major: 1, minor: 3)

    func started() async throws -> (InProcessBackbone, RecordingReceiver) {
        let backbone = InProcessBackbone()
        let receiver = RecordingReceiver()
        try await backbone.start(receiver: receiver)
        return (backbone, receiver)
    }

    @Test func isConnectedFromTheStartAndAnswersQueriesWithTheNodesOwnOccupancy() async throws {
        let (backbone, receiver) = try await self.started()
        #expect(receiver.connected.withLock { $0 } == [true])
        #expect(await backbone.occupiedChannels(app: "1", prefix: "presence-") == ["1:presence-": 1])
    }

    func event(_ channel: String, _ text: String, cached: Bool) -> BackboneEvent {
        var payload = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        payload.writeString(text)
        return BackboneEvent(app: "1", channel: channel, payload: payload, excludedSocket: self.s1, isCached: cached)
    }

    @Test("a publish is delivered to the receiver once, with its exclusion")
    func publishDelivers() async throws {
        let (backbone, receiver) = try await self.started()
        backbone.publish(self.event("news", #"{"event":"e"}"#, cached: false))
        let delivered = receiver.delivered
        #expect(delivered.count == 1)
        #expect(delivered.first?.excluded == self.s1)
        #expect(delivered.first?.json["event"] == .string("e"))
        await backbone.shutdown()
        backbone.publish(self.event("news", #"{"event":"e"}"#, cached: false))
        #expect(receiver.delivered.count == 1, "nothing is delivered after shutdown")
    }

    @Test("only cached channels keep their last event")
    func lastEvent() async throws {
        let (backbone, _) = try await self.started()
        #expect(await backbone.lastEvent(app: "1", channel: "cache-x") == nil)
        backbone.publish(self.event("cache-x", #"{"n":1}"#, cached: true))
        backbone.publish(self.event("cache-x", #"{"n":2}"#, cached: true))
        backbone.publish(self.event("plain", #"{"n":3}"#, cached: false))
        let cached = try #require(await backbone.lastEvent(app: "1", channel: "cache-x"))
        #expect(String(buffer: cached.payload) == #"{"n":2}"#)
        #expect(cached.timeToLive > .minutes(29) && cached.timeToLive <= CachePolicy.timeToLive)
        #expect(await backbone.lastEvent(app: "1", channel: "plain") == nil)
        #expect(await backbone.lastEvent(app: "2", channel: "cache-x") == nil, "cache slots are per app")
    }

    @Test("member_added is announced for a user's first socket only, skipping that socket")
    func memberAddedOnce() async throws {
        let (backbone, receiver) = try await self.started()
        let alice = PresenceMember(userID: "alice", userInfo: .object([("n", .number("1"))]))
        let first = try await backbone.addMember(
            app: "1",
            channel: "presence-r",
            socket: self.s1,
            member: alice,
            maximumMembers: 10
        )
        #expect(first.isFirstSocketOfUser)
        let second = try await backbone.addMember(
            app: "1",
            channel: "presence-r",
            socket: self.s2,
            member: alice,
            maximumMembers: 10
        )
        #expect(!second.isFirstSocketOfUser)
        let delivered = receiver.delivered
        #expect(delivered.count == 1)
        #expect(delivered.first?.excluded == self.s1)
        #expect(delivered.first?.json["event"] == .string("pusher_internal:member_added"))
        #expect(delivered.first?.json["channel"] == .string("presence-r"))
        #expect(delivered.first?.json["data"] == .string(#"{"user_id":"alice","user_info":{"n":1}}"#))
    }

    @Test("member_removed is announced, and the member returned, only when the last socket leaves")
    func memberRemovedOnce() async throws {
        let (backbone, receiver) = try await self.started()
        let alice = PresenceMember(userID: "alice")
        _ = try await backbone.addMember(
            app: "1",
            channel: "presence-r",
            socket: self.s1,
            member: alice,
            maximumMembers: 10
        )
        _ = try await backbone.addMember(
            app: "1",
            channel: "presence-r",
            socket: self.s2,
            member: alice,
            maximumMembers: 10
        )
        #expect(await backbone.removeMember(app: "1", channel: "presence-r", socket: self.s1) == nil)
        #expect(receiver.delivered.count == 1)
        #expect(await backbone.removeMember(app: "1", channel: "presence-r", socket: self.s2) == alice)
        let last = try #require(receiver.delivered.last)
        #expect(last.json["event"] == .string("pusher_internal:member_removed"))
        #expect(last.json["data"] == .string(#"{"user_id":"alice"}"#))
        #expect(last.excluded == nil)
        #expect(await backbone.members(app: "1", channel: "presence-r").isEmpty)
    }

    @Test("members are listed by user in join order, per app and channel")
    func members() async throws {
        let (backbone, _) = try await self.started()
        for (socket, user) in [(self.s1, "u1"), (self.s2, "u2"), (self.s3, "u1")] {
            _ = try await backbone.addMember(
                app: "1",
                channel: "presence-r",
                socket: socket,
                member: PresenceMember(userID: user),
                maximumMembers: 10
            )
        }
        #expect(await backbone.members(app: "1", channel: "presence-r").map(\.userID) == ["u1", "u2"])
        #expect(await backbone.members(app: "2", channel: "presence-r").isEmpty)
        #expect(await backbone.members(app: "1", channel: "presence-s").isEmpty)
    }

    @Test("a full channel refuses a new user without announcing anything")
    func channelFull() async throws {
        let (backbone, receiver) = try await self.started()
        _ = try await backbone.addMember(
            app: "1",
            channel: "presence-r",
            socket: self.s1,
            member: PresenceMember(userID: "u1"),
            maximumMembers: 1
        )
        await #expect(throws: PresenceError.channelFull(maximum: 1)) {
            try await backbone.addMember(
                app: "1",
                channel: "presence-r",
                socket: self.s2,
                member: PresenceMember(userID: "u2"),
                maximumMembers: 1
            )
        }
        #expect(receiver.delivered.count == 1)
        #expect(await backbone.members(app: "1", channel: "presence-r").map(\.userID) == ["u1"])
    }

    @Test("the node's own occupancy changes are the cluster's, reported at once and in order")
    func occupancyIsTheNodes() async throws {
        let (backbone, receiver) = try await self.started()
        backbone.nodeOccupancyChanged(app: "1", channel: "news", hasSubscribers: true)
        backbone.nodeOccupancyChanged(app: "1", channel: "news", hasSubscribers: false)
        backbone.nodeOccupancyChanged(app: "2", channel: "news", hasSubscribers: true)
        #expect(receiver.occupancy.withLock { $0 } == ["occupied 1/news", "vacated 1/news", "occupied 2/news"])
    }

    @Test("terminating a user is handed to the receiver")
    func terminate() async throws {
        let (backbone, receiver) = try await self.started()
        backbone.terminateUser(app: "1", userID: "u1")
        #expect(receiver.terminated.withLock { $0 } == ["1/u1"])
    }
}
