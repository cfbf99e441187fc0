import Backbone
import CoreMetrics
import Logging
public import NIOCore
import PusherProtocol

/// Everything that lives on one event loop: its connections and their rooms.
///
/// One shard per core. Its executor is the event loop, and so are those of its rooms
/// and connections, so the calls between them are synchronous (`assumeIsolated`) and
/// fan-out inside a shard never changes thread. Work arriving from another loop comes
/// in through ``enqueue(_:)``, one hop per shard rather than per subscriber.
public actor Shard {
    public nonisolated let eventLoop: any EventLoop
    private nonisolated let executor: any SerialExecutor
    private nonisolated let backbone: any Backbone
    private nonisolated let occupancy: ChannelOccupancy
    /// Connections log through it, adding their own metadata only when they log.
    nonisolated let logger: Logger

    private var socketIDs: SocketIDGenerator
    private var rooms: [RoomKey: Room] = [:]
    private var connections: [SocketID: Connection] = [:]
    private var users: [UserKey: [SocketID: Connection]] = [:]
    private var sweepTask: RepeatedTask?
    private nonisolated let flushes: FlushQueue
    /// Broadcasts not written yet: see ``deliver(_:to:excluding:presenceRevision:)``.
    private var run: BroadcastRun?
    private var isRunWriteScheduled = false

    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.executor.asUnownedSerialExecutor() }

    init(
        eventLoop: any EventLoop,
        socketIDMajor: UInt32,
        backbone: any Backbone,
        occupancy: ChannelOccupancy,
        logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.executor = eventLoop.executor
        self.backbone = backbone
        self.occupancy = occupancy
        self.logger = logger
        self.socketIDs = SocketIDGenerator(major: socketIDMajor)
        self.flushes = FlushQueue(eventLoop: eventLoop)
    }

    /// Runs `body` on this shard's executor: at once when already there, else one hop.
    nonisolated func enqueue(_ body: @escaping @Sendable (isolated Shard) -> Void) {
        if self.eventLoop.inEventLoop {
            self.assumeIsolated(body)
        } else {
            self.eventLoop.execute { self.assumeIsolated(body) }
        }
    }

    /// Registers a socket that has just completed its WebSocket upgrade, if the node's
    /// and the app's connection quotas admit it.
    public func open(
        app: App,
        broker: Broker,
        outbound: any Outbound,
        clientAddress: String? = nil,
        now: NIODeadline
    ) throws(ConnectionRefusal) -> Connection {
        if let refusal = broker.admit(app) { throw refusal }
        let socketID = self.socketIDs.make()
        let connection = Connection(
            socketID: socketID, app: app, shard: self, broker: broker, outbound: outbound,
            clientAddress: clientAddress, now: now
        )
        self.connections[socketID] = connection
        return connection
    }

    /// Drops a closed connection and returns its slot in the connection quotas.
    func forget(_ connection: Connection, userID: String?) {
        guard self.connections.removeValue(forKey: connection.socketID) != nil else { return }
        connection.broker.release(connection.app)
        if let userID { self.signOut(connection, userID: userID) }
    }

    func signOut(_ connection: Connection, userID: String) {
        let key = UserKey(app: connection.app.id, userID: userID)
        self.users[key]?[connection.socketID] = nil
        if self.users[key]?.isEmpty == true { self.users[key] = nil }
    }

    func signIn(_ connection: Connection, userID: String) {
        self.users[UserKey(app: connection.app.id, userID: userID), default: [:]][connection.socketID] = connection
    }

    func subscribe(_ socketID: SocketID, outbound: any Outbound, to key: RoomKey, of app: App, presenceRevision: UInt64 = 0) {
        // Events published before the socket joined are not its to receive.
        self.writeRun()
        let room: Room
        if let existing = self.rooms[key] {
            room = existing
        } else {
            room = Room(key: key, executor: self.executor, flushes: self.flushes, metrics: app.metrics)
            self.rooms[key] = room
            self.backbone.join(app: key.app, channel: key.channel)
        }
        if room.assumeIsolated({ $0.add(socketID, outbound: outbound, presenceRevision: presenceRevision) }) {
            self.occupancy.subscribed(key, app: app)
        }
    }

    func unsubscribe(_ socketID: SocketID, from key: RoomKey, of app: App) {
        guard let room = self.rooms[key] else { return }
        // Events published while the socket was in the room are still its to receive.
        self.writeRun()
        let (removed, isEmpty) = room.assumeIsolated { room in
            (room.remove(socketID), room.isEmpty)
        }
        if removed { self.occupancy.unsubscribed(key, app: app) }
        if isEmpty {
            self.rooms[key] = nil
            self.backbone.leave(app: key.app, channel: key.channel)
        }
    }

    /// Broadcasts one event to the room of `key` on this shard.
    ///
    /// Consecutive broadcasts to the same room with the same exclusion (a `batch_events`
    /// request to one channel, a burst from the backbone) are gathered into one buffer and
    /// written to each subscriber once, at the end of the current event-loop task or when
    /// anything else touches the shard's sockets first: a broadcast to another room, a
    /// membership change, a presence announcement, a connection closing
    /// (``writeRun()``). Every socket therefore receives its frames in publication order,
    /// and a room of N sockets costs N writes per run instead of N per event.
    func deliver(_ frame: OutboundFrame, to key: RoomKey, excluding excluded: SocketID?, presenceRevision: UInt64?) {
        if presenceRevision == nil, self.run?.extend(with: frame, to: key, excluding: excluded) == true { return }
        self.writeRun()
        guard let room = self.rooms[key] else { return }
        if let presenceRevision {
            room.assumeIsolated { $0.announce(frame, excluding: excluded, revision: presenceRevision) }
            return
        }
        self.run = BroadcastRun(room: room, key: key, excluded: excluded, frames: frame)
        guard !self.isRunWriteScheduled else { return }
        self.isRunWriteScheduled = true
        self.eventLoop.execute {
            self.assumeIsolated { shard in
                shard.isRunWriteScheduled = false
                shard.writeRun()
            }
        }
    }

    /// Writes the gathered broadcasts to their room's sockets, if there are any.
    func writeRun() {
        guard let run = self.run else { return }
        self.run = nil
        run.room.assumeIsolated { $0.broadcast(run.frames, excluding: run.excluded) }
    }

    func terminate(app: String, userID: String) {
        guard let sockets = self.users[UserKey(app: app, userID: userID)] else { return }
        for connection in sockets.values {
            connection.assumeIsolated { $0.close(code: .unauthorized, reason: "Connection terminated by the app") }
        }
    }

    /// Occupied channels of `app` on this shard with their local subscription counts.
    func occupancy(app: String, prefix: String?) -> [String: Int] {
        var result: [String: Int] = [:]
        for (key, room) in self.rooms where key.app == app {
            if let prefix, !key.channel.hasPrefix(prefix) { continue }
            result[key.channel] = room.assumeIsolated { $0.count }
        }
        return result
    }

    var connectionCount: Int { self.connections.count }

    /// Starts the once-a-period activity check that replaces a timer per connection.
    func startSweeping(every period: TimeAmount) {
        self.sweepTask = self.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            self.assumeIsolated { $0.sweep(now: .now()) }
        }
    }

    func stopSweeping() {
        self.sweepTask?.cancel()
        self.sweepTask = nil
    }

    /// Schedules every connection's 4200 close at its own slot of `window`: slot k of n
    /// starts at k/n of the window plus a random part of one slot, so closes are even
    /// across the window and no two shards' sockets line up.
    func drain(over window: TimeAmount) {
        let connections = self.connections.values.shuffled()
        let slot = connections.isEmpty ? 0 : window.nanoseconds / Int64(connections.count)
        for (index, connection) in connections.enumerated() {
            let delay = slot * Int64(index) + Int64.random(in: 0...max(0, slot))
            let eventLoop = self.eventLoop
            eventLoop.scheduleTask(in: .nanoseconds(delay)) {
                // Re-queued rather than run from the timer: NIO may run a due timer before
                // tasks queued earlier, and those include deliveries this socket must get
                // before its close.
                eventLoop.execute {
                    connection.assumeIsolated { $0.close(code: .reconnectImmediately, reason: "Node is draining; reconnect") }
                    connection.broker.metrics.drainedConnections.increment()
                }
            }
        }
    }

    private func sweep(now: NIODeadline) {
        for connection in self.connections.values {
            connection.assumeIsolated { $0.checkActivity(now: now) }
        }
    }
}

/// A signed-in user of an app: the unit of send-to-user and terminate.
struct UserKey: Hashable, Sendable {
    var app: String
    var userID: String
}

/// Consecutive broadcasts to one room with one exclusion, gathered by the shard.
private struct BroadcastRun {
    /// Past this the run is written and a new one started, so a burst of large events
    /// is not gathered into one ever-growing buffer.
    static let maximumBytes = 64 * 1024

    let room: Room
    let key: RoomKey
    let excluded: SocketID?
    var frames: OutboundFrame

    /// Adds `frame` if it goes to the same room with the same exclusion.
    /// - Returns: whether it did.
    mutating func extend(with frame: OutboundFrame, to key: RoomKey, excluding excluded: SocketID?) -> Bool {
        guard key == self.key, excluded == self.excluded,
            self.frames.byteCount + frame.byteCount <= Self.maximumBytes
        else { return false }
        self.frames.append(frame)
        return true
    }
}
