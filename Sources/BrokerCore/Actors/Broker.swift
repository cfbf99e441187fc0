public import Backbone
public import BrokerConfig
import CoreMetrics
public import Logging
public import NIOCore
public import PusherProtocol
import Synchronization

/// The root of a node: its shards, its apps and its link to the cluster.
///
/// Publishing is `nonisolated` and synchronous: an HTTP request or client event encodes
/// its frame once and hands it to the backbone without an actor hop. Deliveries come
/// back through ``deliver(_:)`` and go to each shard in one hop per shard.
public actor Broker: BackboneReceiver {
    public nonisolated let apps: AppRegistry
    public nonisolated let limits: Limits
    public nonisolated let backbone: any Backbone
    public nonisolated let shards: [Shard]
    public nonisolated let metrics = NodeMetrics()
    /// Where webhook-worthy channel events go; `nil` when no app has webhooks.
    public nonisolated let eventSink: (any ChannelEventSink)?
    private nonisolated let shardByLoop: [ObjectIdentifier: Shard]
    private let logger: Logger
    private nonisolated let refusals: RefusalLog
    private var isRunning = false
    /// Open sockets on this node, for ``Limits/maxConnections``.
    private nonisolated let connectionTotal = Atomic<Int>(0)
    nonisolated let drainState = Atomic<Bool>(false)
    nonisolated let isListening = Atomic<Bool>(false)
    nonisolated let backboneConnected = Atomic<Bool>(false)

    public init(
        configuration: Config,
        eventLoops: [any EventLoop],
        backbone: any Backbone,
        apps: AppRegistry? = nil,
        eventSink: (any ChannelEventSink)? = nil,
        logger: Logger
    ) {
        precondition(!eventLoops.isEmpty, "a broker needs at least one event loop")
        self.eventSink = eventSink
        self.refusals = RefusalLog(logger: logger)
        let occupancy = ChannelOccupancy(sink: eventSink, backbone: backbone)
        self.apps = apps ?? AppRegistry(configuration: configuration)
        self.limits = configuration.limits
        self.backbone = backbone
        self.logger = logger
        // Shards share the node's random socket id prefix, offset so their ids never collide.
        let major = UInt32.random(in: 1...UInt32.max / 2)
        self.shards = eventLoops.enumerated().map { index, loop in
            Shard(
                eventLoop: loop, socketIDMajor: major &+ UInt32(index), backbone: backbone, occupancy: occupancy,
                logger: logger
            )
        }
        self.shardByLoop = Dictionary(
            self.shards.map { (ObjectIdentifier($0.eventLoop), $0) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The shard that owns sockets accepted on `eventLoop`.
    public nonisolated func shard(for eventLoop: any EventLoop) -> Shard {
        guard let shard = self.shardByLoop[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop \(eventLoop) is not one of the broker's")
        }
        return shard
    }

    public func start() async throws {
        guard !self.isRunning else { return }
        try await self.backbone.start(receiver: self)
        let period = Self.sweepPeriod([self.limits] + self.apps.all.map(\.limits))
        for shard in self.shards {
            shard.enqueue { $0.startSweeping(every: period) }
        }
        self.isRunning = true
    }

    public func shutdown() async {
        guard self.isRunning else { return }
        self.isRunning = false
        for shard in self.shards {
            shard.enqueue { $0.stopSweeping() }
        }
        await self.backbone.shutdown()
    }

    // MARK: - Publishing

    /// Sends `event` to every subscriber of `channel` in the cluster but `excluded`.
    public nonisolated func publish(app: App, channel: ChannelName, event: ServerEvent, excluding excluded: SocketID?) {
        self.metrics.backbonePublished.increment()
        self.backbone.publish(
            BackboneEvent(
                app: app.id, channel: channel.name, event: event, excludedSocket: excluded, isCached: channel.isCache
            )
        )
    }

    /// Closes every socket of a user, cluster-wide, with 4009.
    public nonisolated func terminate(app: App, userID: String) {
        self.backbone.terminateUser(app: app.id, userID: userID)
    }

    public nonisolated func deliver(_ event: BackboneEvent) {
        self.metrics.backboneReceived.increment()
        let frame = OutboundFrame(text: event.payload)
        let key = RoomKey(app: event.app, channel: event.channel)
        let (excluded, revision) = (event.excludedSocket, event.presenceRevision)
        for shard in self.shards {
            shard.enqueue { $0.deliver(frame, to: key, excluding: excluded, presenceRevision: revision) }
        }
    }

    public nonisolated func terminateUser(app: String, userID: String) {
        for shard in self.shards {
            shard.enqueue { $0.terminate(app: app, userID: userID) }
        }
    }

    public nonisolated func backboneConnectionChanged(isConnected: Bool) {
        guard self.backboneConnected.exchange(isConnected, ordering: .relaxed) != isConnected else { return }
        self.metrics.backboneConnected.record(isConnected ? 1 : 0)
        if isConnected {
            self.logger.info("backbone connected", metadata: ["backbone": "\(type(of: self.backbone))"])
        } else {
            self.logger.warning(
                "backbone disconnected: serving local traffic only, events for other nodes are dropped and counted",
                metadata: ["backbone": "\(type(of: self.backbone))"]
            )
        }
    }

    public nonisolated func backboneDropped(events: Int) {
        self.metrics.backboneDropped.increment(by: Int64(events))
    }

    // MARK: - Queries

    /// Occupied channels of an app in the whole cluster, with their subscription counts.
    public nonisolated func occupiedChannels(app: App, prefix: String?) async -> [String: Int] {
        await self.backbone.occupiedChannels(app: app.id, prefix: prefix)
    }

    /// Subscriptions to one channel in the whole cluster.
    public nonisolated func subscriptionCount(app: App, channel: String) async -> Int {
        await self.backbone.occupiedChannels(app: app.id, prefix: channel)[channel] ?? 0
    }

    public nonisolated func channelOccupancyChanged(app: String, channel: String, isOccupied: Bool) {
        guard let sink = self.eventSink, let app = self.apps.app(id: app) else { return }
        sink.record(isOccupied ? .channelOccupied(channel: channel) : .channelVacated(channel: channel), app: app)
    }

    /// Occupied channels of an app on this node, summed over shards.
    public nonisolated func localOccupancy(app: String, prefix: String?) async -> [String: Int] {
        var result: [String: Int] = [:]
        for shard in self.shards {
            let local = await shard.occupancy(app: app, prefix: prefix)
            result.merge(local, uniquingKeysWith: +)
        }
        return result
    }

    public nonisolated func connectionCount() async -> Int {
        var total = 0
        for shard in self.shards {
            total += await shard.connectionCount
        }
        return total
    }

    /// Sweeps often enough that a timeout fires within a quarter of its length, and at
    /// most once a second, whatever the number of connections.
    static func sweepPeriod(_ limits: [Limits]) -> TimeAmount {
        let shortest = limits.map { min($0.activityTimeoutSeconds, $0.pongTimeoutSeconds) }.min() ?? 1
        return .milliseconds(Int64(max(100, min(1000, shortest * 250))))
    }

    // MARK: - Admission

    /// Counts a new socket against the node's and the app's connection quotas.
    /// - Returns: the close code to refuse it with, or `nil` when admitted (then
    ///   ``release(_:)`` must follow when it closes).
    nonisolated func admit(_ app: App) -> ConnectionRefusal? {
        let total = self.connectionTotal.wrappingAdd(1, ordering: .relaxed).newValue
        if let maximum = self.limits.maxConnections, total > maximum {
            self.connectionTotal.wrappingSubtract(1, ordering: .relaxed)
            app.metrics.refused(.nodeCapacity)
            return ConnectionRefusal(code: .overCapacity, message: "Node is at capacity (\(maximum) connections)")
        }
        let count = app.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        if let maximum = app.configuration.maxConnections, count > maximum {
            app.connectionCount.wrappingSubtract(1, ordering: .relaxed)
            self.connectionTotal.wrappingSubtract(1, ordering: .relaxed)
            app.metrics.refused(.connectionQuota)
            return ConnectionRefusal(
                code: .applicationOverConnectionQuota,
                message: "App \(app.id) is over its connection quota (\(maximum))"
            )
        }
        app.metrics.connectionsOpened.increment()
        app.metrics.connections.increment()
        return nil
    }

    /// A socket refused before it became a connection, logged at most once per close
    /// code per ten seconds.
    public nonisolated func logRefusal(code: PusherCode, reason: String, appKey: String) {
        self.refusals.refused(code: code, reason: reason, appKey: appKey)
    }

    nonisolated func release(_ app: App) {
        app.connectionCount.wrappingSubtract(1, ordering: .relaxed)
        self.connectionTotal.wrappingSubtract(1, ordering: .relaxed)
    }
}
