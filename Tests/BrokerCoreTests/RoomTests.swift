import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Room fan-out")
struct RoomTests {
    let key = RoomKey(app: "1", channel: "news")

    static func makeRoom(key: RoomKey, on loop: NIOAsyncTestingEventLoop) -> Room {
        Room(key: key, executor: loop, flushes: FlushQueue(eventLoop: loop), metrics: AppMetrics(appID: "test"))
    }

    func frame(_ text: String) -> OutboundFrame {
        var payload = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        payload.writeString(text)
        return OutboundFrame(text: payload)
    }

    @Test("a broadcast writes the same buffer once to every subscriber but the excluded one")
    func broadcastSharesOneBuffer() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frame = self.frame(#"{"event":"e"}"#)
        let (a, b, c) = (RecordingOutbound(), RecordingOutbound(), RecordingOutbound())
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            room.assumeIsolated { room in
                room.add(SocketID(major: 1, minor: 1), outbound: a)
                room.add(SocketID(major: 1, minor: 2), outbound: b)
                room.add(SocketID(major: 1, minor: 3), outbound: c)
                room.broadcast(frame, excluding: SocketID(major: 1, minor: 2))
            }
            #expect(a.frames.count == 1)
            #expect(b.frames.isEmpty)
            #expect(c.frames.count == 1)
            let address = ServerFrame.storageAddress(frame)
            #expect(ServerFrame.storageAddress(a.frames[0]) == address)
            #expect(ServerFrame.storageAddress(c.frames[0]) == address)
        }
        await loop.run()
        #expect(a.flushCount == 1)
        #expect(b.flushCount == 0)
        await loop.shutdownGracefully()
    }

    @Test("broadcasts queued together are flushed once per socket, after the last of them")
    func burstFlushesOnce() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frames = [self.frame(#"{"event":"a"}"#), self.frame(#"{"event":"b"}"#)]
        let outbound = RecordingOutbound()
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            room.assumeIsolated { room in
                room.add(SocketID(major: 1, minor: 1), outbound: outbound)
                for frame in frames { room.broadcast(frame, excluding: nil) }
            }
            #expect(outbound.frames.count == 2)
            #expect(outbound.flushCount == 0)
        }
        await loop.run()
        #expect(outbound.flushCount == 1)
        await loop.shutdownGracefully()
    }

    @Test("removing a subscriber from the middle keeps every other one reachable")
    func removalKeepsIndexConsistent() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frame = self.frame(#"{"event":"e"}"#)
        let outbounds = (0..<4).map { _ in RecordingOutbound() }
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            let ids = (0..<4).map { SocketID(major: 1, minor: UInt64($0)) }
            room.assumeIsolated { room in
                for (id, outbound) in zip(ids, outbounds) { room.add(id, outbound: outbound) }
                room.remove(ids[0])  // the last subscriber moves into slot 0
                room.remove(ids[3])  // removing the moved one must find it in its new slot
                room.remove(ids[3])  // a second removal is a no-op
                let count = room.count
                #expect(count == 2)
                room.broadcast(frame, excluding: nil)
            }
            #expect(outbounds.map(\.frames.count) == [0, 1, 1, 0])
            room.assumeIsolated { room in
                room.remove(ids[1])
                room.remove(ids[2])
                let isEmpty = room.isEmpty
                #expect(isEmpty)
            }
        }
        await loop.shutdownGracefully()
    }

    @Test("adding a socket twice re-points it at the new outbound without a second entry")
    func readdingRepoints() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frame = self.frame(#"{"event":"e"}"#)
        let (old, new) = (RecordingOutbound(), RecordingOutbound())
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            room.assumeIsolated { room in
                room.add(SocketID(major: 1, minor: 1), outbound: old)
                room.add(SocketID(major: 1, minor: 1), outbound: new)
                let count = room.count
                #expect(count == 1)
                room.broadcast(frame, excluding: nil)
            }
            #expect(old.frames.isEmpty)
            #expect(new.frames.count == 1)
        }
        await loop.shutdownGracefully()
    }

    @Test("a versioned membership announcement skips sockets whose snapshot already showed it")
    func announcementSkipsNewerSnapshots() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frame = self.frame(#"{"event":"pusher_internal:member_added"}"#)
        let (old, same, newer) = (RecordingOutbound(), RecordingOutbound(), RecordingOutbound())
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            room.assumeIsolated { room in
                room.add(SocketID(major: 1, minor: 1), outbound: old, presenceRevision: 4)
                room.add(SocketID(major: 1, minor: 2), outbound: same, presenceRevision: 5)
                room.add(SocketID(major: 1, minor: 3), outbound: newer, presenceRevision: 9)
                room.announce(frame, excluding: nil, revision: 5)
            }
            #expect(old.frames.count == 1)
            #expect(same.frames.isEmpty)
            #expect(newer.frames.isEmpty)
        }
        await loop.shutdownGracefully()
    }

    @Test("a room growing past the indexed size and shrinking below it keeps every socket reachable")
    func indexFollowsTheRoomSize() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let key = self.key
        let frame = self.frame(#"{"event":"e"}"#)
        let size = SmallDictionary<SocketID, Int>.indexedCount + 4
        let outbounds = (0..<size).map { _ in RecordingOutbound() }
        try await loop.executeInContext {
            let room = Self.makeRoom(key: key, on: loop)
            let ids = (0..<size).map { SocketID(major: 2, minor: UInt64($0)) }
            room.assumeIsolated { room in
                let added = zip(ids, outbounds).map { room.add($0, outbound: $1) }
                let readded = room.add(ids[3], outbound: outbounds[3])
                // Remove from the front so every removal moves the last socket; cross the
                // threshold on the way down, then check each survivor is still found.
                let removed = ids.prefix(8).map { room.remove($0) }
                let removedAgain = ids.prefix(8).map { room.remove($0) }
                room.broadcast(frame, excluding: ids[size - 1])
                let count = room.count
                let rest = ids.dropFirst(8).map { room.remove($0) }
                let isEmpty = room.isEmpty
                #expect(added.allSatisfy { $0 } && !readded)
                #expect(removed.allSatisfy { $0 } && !removedAgain.contains(true))
                #expect(count == size - 8)
                #expect(rest.allSatisfy { $0 } && isEmpty)
            }
            #expect(outbounds.map(\.frames.count) == Array(repeating: 0, count: 8) + Array(repeating: 1, count: size - 9) + [0])
        }
        await loop.shutdownGracefully()
    }
}
