public import Backbone
public import BrokerConfig
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import PusherProtocol

/// The cluster backbone over NATS (DESIGN.md, "Backbone").
///
/// - Events: a node subscribes to a channel's subject while it has local subscribers
///   (``join(app:channel:)`` counts shards), publishes each event once, and delivers
///   its own events in process; the connection is no-echo, so nothing arrives twice.
/// - Presence, the cache channels' last events and which nodes have subscribers on
///   each channel live in JetStream key-value buckets (``ClusterPresence``,
///   ``ClusterOccupancy``); node leases in another bucket let survivors remove the
///   members and channels of a node that died without saying goodbye.
/// - Queries scatter to every node and gather the answers for a bounded time.
///
/// libnats calls that wait on the network run on ``threadPool``, never on the Swift
/// concurrency pool. Publishing only appends to libnats' write buffer and stays on the
/// caller's thread. While NATS is unreachable, local traffic keeps flowing and every
/// event that cannot leave the node is counted as dropped.
public final class NATSBackbone: Backbone {
    public let nodeID: String
    let configuration: NATSConfiguration
    let logger: Logger
    let threadPool: NIOThreadPool
    /// Lease rounds get a thread of their own: a pool busy with presence joins must
    /// not delay a renewal until the lease expires.
    let leaseThread = NIOThreadPool(numberOfThreads: 1)
    let state: NIOLockedValueBox<State>
    let presence: ClusterPresence
    let occupancy: ClusterOccupancy
    let recentCacheEvents = RecentCacheEvents()

    struct Buckets {
        var presence: KeyValueBucket
        var cache: KeyValueBucket
        var leases: KeyValueBucket
        var occupancy: KeyValueBucket
    }

    struct Interest {
        var app: String
        var channel: String
        var shards: Int
        /// Tells this subscription's messages from those of an earlier one.
        var generation: UInt64
        var subscription: NATSSubscription?
    }

    struct State {
        var receiver: (any BackboneReceiver)?
        var client: NATSClient?
        var buckets: Buckets?
        /// Channel interest by subject: how many shards asked, and the subscription once
        /// the client exists (sockets may subscribe while the backbone is starting).
        var interest: [String: Interest] = [:]
        var nextGeneration: UInt64 = 0
        var control: [NATSSubscription] = []
        /// Nodes whose lease was current at the last lease round, this one included.
        var liveNodes: Set<String> = []
        var leaseTask: Task<Void, Never>?

        /// The buckets while NATS is reachable: a call made while disconnected would
        /// only wait for its timeout.
        var connectedBuckets: Buckets? {
            self.client?.isConnected == true ? self.buckets : nil
        }
    }

    public init(configuration: NATSConfiguration, nodeID: String?, logger: Logger) {
        self.configuration = configuration
        self.nodeID = nodeID ?? Self.defaultNodeID()
        var logger = logger
        logger[metadataKey: "node"] = "\(self.nodeID)"
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: Self.blockingThreads)
        let state = NIOLockedValueBox(State())
        self.state = state
        let recentCacheEvents = self.recentCacheEvents
        self.presence = ClusterPresence(
            node: self.nodeID,
            bucket: { state.withLockedValue { $0.connectedBuckets?.presence } },
            announce: { app, channel, event, excluded, revision in
                let announcement = BackboneEvent(
                    app: app, channel: channel, event: event, excludedSocket: excluded, isCached: false,
                    presenceRevision: revision
                )
                Self.publish(announcement, in: state, recentCacheEvents: recentCacheEvents)
            },
            logger: logger
        )
        self.occupancy = ClusterOccupancy(
            node: self.nodeID,
            bucket: { state.withLockedValue { $0.connectedBuckets?.occupancy } },
            announce: { app, channel, isOccupied in
                state.withLockedValue { $0.receiver }?.channelOccupancyChanged(app: app, channel: channel, isOccupied: isOccupied)
            },
            logger: logger
        )
    }

    /// Threads for blocking NATS calls: presence joins wait a round trip or two each,
    /// so a few run side by side.
    static let blockingThreads = 4

    /// Hostname plus a random suffix: unique per process, so a restarted node never
    /// renews the lease of the process it replaces.
    static func defaultNodeID() -> String {
        let host = ProcessInfo.processInfo.hostName.unicodeScalars.map { scalar in
            BackboneConfiguration.isValidNodeID(String(scalar)) ? String(scalar) : "-"
        }.joined().prefix(48)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host.isEmpty ? "node" : String(host))-\(suffix)"
    }

    // MARK: - Lifecycle

    public func start(receiver: any BackboneReceiver) async throws {
        self.threadPool.start()
        self.leaseThread.start()
        self.occupancy.start()
        self.state.withLockedValue { $0.receiver = receiver }
        let events = NATSClient.Events(
            connected: { [weak self] in self?.connectionEstablished() },
            disconnected: { [weak self] in self?.connectionLost() },
            dropped: { [weak self] count in self?.receiver?.backboneDropped(events: count) }
        )
        let configuration = self.configuration
        let name = "switchboard \(self.nodeID)"
        let client = try await self.threadPool.runIfActive {
            try NATSClient(configuration: configuration, name: name, events: events)
        }
        let control = try [
            client.subscribe(ClusterNames.querySubject) { [weak self] message in self?.answerQuery(message) },
            client.subscribe(ClusterNames.terminateSubject) { [weak self] message in self?.terminateLocally(message) },
        ]
        self.state.withLockedValue { state in
            state.client = client
            state.control = control
            for (subject, interest) in state.interest where interest.subscription == nil {
                state.interest[subject]?.subscription = self.subscribe(subject, interest, client: client, receiver: receiver)
            }
        }
        self.startLeases()
        self.logger.info("NATS backbone started", metadata: ["urls": "\(configuration.urls.map(Config.redacted))"])
    }

    /// Leaves the cluster: this node's sockets are already closed by the drain, so
    /// every roster entry it still holds goes, with `member_removed`, its channels are
    /// vacated where it was the last node, and its lease goes too.
    public func shutdown() async {
        let (task, client) = self.state.withLockedValue { state in
            defer { state.leaseTask = nil }
            return (state.leaseTask, state.client)
        }
        task?.cancel()
        await task?.value
        if let client, client.isConnected {
            let presence = self.presence
            let live = self.state.withLockedValue { $0.liveNodes }
            await self.occupancy.leave(live: live)
            let leases = self.state.withLockedValue { $0.buckets?.leases }
            let node = self.nodeID
            _ = try? await self.leaseThread.runIfActive {
                presence.forgetLocalMembers()
                presence.reconcile(live: live, everything: true)
                try? leases?.delete(node)
            }
        }
        self.state.withLockedValue { state in
            state.interest = [:]
            state.control = []
            state.buckets = nil
            state.receiver = nil
            state.client = nil
        }
        client?.close()
        await self.occupancy.shutdown()
        try? await self.threadPool.shutdownGracefully()
        try? await self.leaseThread.shutdownGracefully()
        self.logger.info("NATS backbone stopped")
    }

    var receiver: (any BackboneReceiver)? {
        self.state.withLockedValue { $0.receiver }
    }

    // MARK: - Events

    public func join(app: String, channel: String) {
        let subject = ClusterNames.channelSubject(app: app, channel: channel)
        self.state.withLockedValue { state in
            if state.interest[subject] != nil {
                state.interest[subject]!.shards += 1
                return
            }
            state.nextGeneration += 1
            var interest = Interest(app: app, channel: channel, shards: 1, generation: state.nextGeneration)
            if (try? ChannelName(validating: channel))?.isCache == true {
                self.recentCacheEvents.listen(subject, generation: interest.generation)
            }
            if let client = state.client, let receiver = state.receiver {
                interest.subscription = self.subscribe(subject, interest, client: client, receiver: receiver)
            }
            state.interest[subject] = interest
        }
    }

    /// Delivers what arrives on `subject` to `receiver`. Captures no lock: libnats may
    /// call the handler while `leave` holds the state lock.
    private func subscribe(
        _ subject: String,
        _ interest: Interest,
        client: NATSClient,
        receiver: any BackboneReceiver
    ) -> NATSSubscription? {
        let (app, channel, generation) = (interest.app, interest.channel, interest.generation)
        let recent = self.recentCacheEvents
        do {
            return try client.subscribe(subject) { message in
                guard let event = EventEnvelope.decode(message.payload, app: app, channel: channel) else { return }
                if event.isCached { recent.record(subject, generation: generation, payload: event.payload) }
                receiver.deliver(event)
            }
        } catch {
            self.logger.error("channel interest not registered", metadata: ["channel": "\(channel)", "error": "\(error)"])
            return nil
        }
    }

    public func nodeOccupancyChanged(app: String, channel: String, hasSubscribers: Bool) {
        self.occupancy.nodeChanged(app: app, channel: channel, hasSubscribers: hasSubscribers)
    }

    public func leave(app: String, channel: String) {
        let subject = ClusterNames.channelSubject(app: app, channel: channel)
        let released = self.state.withLockedValue { state -> NATSSubscription? in
            guard let current = state.interest[subject] else { return nil }
            guard current.shards > 1 else { return state.interest.removeValue(forKey: subject)?.subscription ?? nil }
            state.interest[subject]!.shards -= 1
            return nil
        }
        // The subscription ends here, outside the lock, when its last reference goes.
        if released != nil { self.recentCacheEvents.forget(subject) }
    }

    public func publish(_ event: BackboneEvent) {
        Self.publish(event, in: self.state, recentCacheEvents: self.recentCacheEvents)
    }

    private static func publish(_ event: BackboneEvent, in state: NIOLockedValueBox<State>, recentCacheEvents: RecentCacheEvents) {
        let subject = ClusterNames.channelSubject(app: event.app, channel: event.channel)
        let (receiver, client, generation) = state.withLockedValue { ($0.receiver, $0.client, $0.interest[subject]?.generation) }
        if event.isCached, let generation {
            recentCacheEvents.record(subject, generation: generation, payload: event.payload)
        }
        receiver?.deliver(event)
        guard let client, client.isConnected, client.publish(subject, EventEnvelope.encode(event)) else {
            receiver?.backboneDropped(events: 1)
            return
        }
        if event.isCached {
            // Best effort: a cache write lost with the connection only costs a late
            // subscriber its replay.
            _ = client.publish(ClusterNames.cacheSubject(app: event.app, channel: event.channel), event.payload)
        }
    }

    public func terminateUser(app: String, userID: String) {
        let (receiver, client) = self.state.withLockedValue { ($0.receiver, $0.client) }
        receiver?.terminateUser(app: app, userID: userID)
        let request = JSONValue.object([("app", .string(app)), ("user_id", .string(userID))]).serialized
        guard let client, client.isConnected, client.publish(ClusterNames.terminateSubject, ByteBuffer(string: request)) else {
            receiver?.backboneDropped(events: 1)
            return
        }
    }

    private func terminateLocally(_ message: NATSMessage) {
        guard let request = try? JSONParser.parse(bytes: Array(message.payload.readableBytesView)),
            let app = request["app"]?.stringValue, let userID = request["user_id"]?.stringValue
        else { return }
        self.receiver?.terminateUser(app: app, userID: userID)
    }

    public func lastEvent(app: String, channel: String) async -> CachedEvent? {
        if let seen = self.recentCacheEvents.last(ClusterNames.channelSubject(app: app, channel: channel)) {
            return seen
        }
        guard let cache = self.state.withLockedValue({ $0.connectedBuckets?.cache }) else { return nil }
        let key = ClusterNames.channelKey(app: app, channel: channel)
        let logger = self.logger
        let entry = try? await self.threadPool.runIfActive { () -> KeyValueBucket.Entry? in
            do {
                return try cache.get(key)
            } catch {
                logger.warning("cache channel's last event unreadable", metadata: ["channel": "\(channel)", "error": "\(error)"])
                return nil
            }
        }
        guard let entry = entry ?? nil else { return nil }
        let age = TimeAmount.nanoseconds(Int64(Date().timeIntervalSince1970 * 1e9) - entry.created)
        let remaining = CachePolicy.timeToLive - age
        guard remaining > .zero else { return nil }
        return CachedEvent(payload: ByteBuffer(bytes: entry.value), timeToLive: remaining)
    }

    // MARK: - Presence

    public func addMember(
        app: String,
        channel: String,
        socket: SocketID,
        member: PresenceMember,
        maximumMembers: Int
    ) async throws(PresenceError) -> PresenceJoin {
        let presence = self.presence
        let result = try? await self.threadPool.runIfActive {
            Result { () throws(PresenceError) in
                try presence.add(app: app, channel: channel, socket: socket, member: member, maximumMembers: maximumMembers)
            }
        }
        guard let result else { throw .unavailable }
        return try result.get()
    }

    public func removeMember(app: String, channel: String, socket: SocketID) async -> PresenceMember? {
        let presence = self.presence
        return (try? await self.threadPool.runIfActive { presence.remove(app: app, channel: channel, socket: socket) }) ?? nil
    }

    public func members(app: String, channel: String) async -> [PresenceMember] {
        let presence = self.presence
        return (try? await self.threadPool.runIfActive { presence.members(app: app, channel: channel) }) ?? []
    }
}
