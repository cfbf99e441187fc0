import Backbone
import BrokerConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PusherProtocol

/// Connection state, node leases and cluster-wide queries.
extension NATSBackbone {
    /// How often a node renews its lease and looks at the others': three times per
    /// TTL.
    var leaseRenewal: TimeAmount {
        .milliseconds(Int64(self.configuration.leaseTTLSeconds) * 1000 / 3)
    }

    /// How long a lease outlives its last renewal: two renewal periods, so one late
    /// renewal never expires a live node, and a dead node is noticed by the next round
    /// after that, within the configured TTL.
    var leaseLifetime: TimeAmount {
        .milliseconds(Int64(self.configuration.leaseTTLSeconds) * 1000 * 2 / 3)
    }

    /// Every this many lease rounds, all rosters are reconciled even if no node
    /// vanished, repairing whatever a failed write left behind.
    static let fullReconcileEvery = 4

    var requestTimeout: TimeAmount {
        .milliseconds(Int64(self.configuration.requestTimeoutMilliseconds))
    }

    // MARK: - Connection state

    /// libnats connected or reconnected: make sure the buckets are open, renew the
    /// lease and re-assert this node's memberships, then report the node ready.
    func connectionEstablished() {
        self.logger.info("NATS connected")
        self.recentCacheEvents.forgetEvents()
        Task {
            _ = try? await self.leaseThread.runIfActive { self.leaseRound(reconcileEverything: true, reconnected: true) }
        }
    }

    func connectionLost() {
        // After shutdown the receiver is gone and the close is ours.
        guard let receiver = self.receiver else { return }
        self.logger.warning("NATS connection lost; reconnecting")
        receiver.backboneConnectionChanged(isConnected: false)
    }

    // MARK: - Leases

    /// The first round runs at once: the connect callback may have fired before the
    /// client was stored, and the node is not ready until a round has opened the buckets.
    func startLeases() {
        let period = self.leaseRenewal
        let task = Task { [weak self] in
            var round = 0
            while !Task.isCancelled {
                guard let self else { return }
                let everything = round % Self.fullReconcileEvery == 0
                _ = try? await self.leaseThread.runIfActive { self.leaseRound(reconcileEverything: everything) }
                round += 1
                try? await Task.sleep(for: .nanoseconds(period.nanoseconds))
            }
        }
        self.state.withLockedValue { $0.leaseTask = task }
    }

    /// One round, on the thread pool: open the buckets if not yet open, renew this
    /// node's lease, read the others', and reconcile rosters and channel occupancy when
    /// a node vanished or this node (re)connected.
    func leaseRound(reconcileEverything: Bool, reconnected: Bool = false) {
        guard let client = self.state.withLockedValue({ $0.client }), client.isConnected else { return }
        let buckets: Buckets
        do {
            buckets = try self.openBuckets(client)
            try buckets.leases.put(self.nodeID, Array(self.nodeID.utf8))
        } catch {
            self.logger.error("NATS cluster state unavailable", metadata: ["error": "\(error)"])
            self.receiver?.backboneConnectionChanged(isConnected: false)
            return
        }
        var live: Set<String>
        do {
            live = Set(try buckets.leases.keys())
        } catch {
            self.logger.warning("node leases unreadable", metadata: ["error": "\(error)"])
            return
        }
        live.insert(self.nodeID)
        let previous = self.state.withLockedValue { state in
            defer { state.liveNodes = live }
            return state.liveNodes
        }
        let lost = previous.subtracting(live)
        if !lost.isEmpty {
            self.logger.warning("nodes left the cluster without saying goodbye", metadata: ["nodes": "\(lost.sorted())"])
        }
        self.presence.reconcile(live: live, everything: reconcileEverything || !lost.isEmpty || previous.isEmpty)
        // Not every fourth round like the rosters: the occupancy bucket has a key for
        // every channel a tracked app ever used, and failed writes are retried anyway.
        self.occupancy.reconcile(live: live, everything: reconnected || !lost.isEmpty || previous.isEmpty)
        self.receiver?.backboneConnectionChanged(isConnected: client.isConnected)
    }

    private func openBuckets(_ client: NATSClient) throws(NATSError) -> Buckets {
        if let buckets = self.state.withLockedValue({ $0.buckets }) { return buckets }
        let jetStream = try client.jetStream(timeout: self.requestTimeout)
        let buckets = Buckets(
            presence: try jetStream.bucket(ClusterNames.presenceBucket, timeToLive: .zero),
            cache: try jetStream.bucket(ClusterNames.cacheBucket, timeToLive: CachePolicy.timeToLive),
            leases: try jetStream.bucket(ClusterNames.leaseBucket, timeToLive: self.leaseLifetime),
            occupancy: try jetStream.bucket(ClusterNames.occupancyBucket, timeToLive: .zero)
        )
        self.state.withLockedValue { $0.buckets = buckets }
        return buckets
    }

    // MARK: - Queries

    public func occupiedChannels(app: String, prefix: String?) async -> [String: Int] {
        guard let receiver = self.receiver else { return [:] }
        var result = await receiver.localOccupancy(app: app, prefix: prefix)
        let (client, leases) = self.state.withLockedValue { ($0.client, $0.connectedBuckets?.leases) }
        guard let client, let leases else { return result }
        var fields: [(key: String, value: JSONValue)] = [("app", .string(app))]
        if let prefix { fields.append(("prefix", .string(prefix))) }
        let request = ByteBuffer(string: JSONValue.object(fields).serialized)
        let timeout = self.requestTimeout
        let node = self.nodeID
        let others: Int
        let answers: [NATSMessage]
        do {
            // The leases as they are now, not as of the last round: a node that
            // joined a moment ago must be waited for.
            (others, answers) = try await self.threadPool.runIfActive {
                let others = try leases.keys().filter { $0 != node }.count
                guard others > 0 else { return (0, []) }
                return (others, try client.gather(ClusterNames.querySubject, request, expected: others, timeout: timeout))
            }
        } catch {
            self.logger.warning("cluster query failed; answering for this node only", metadata: ["error": "\(error)"])
            return result
        }
        if answers.count < others {
            self.logger.warning(
                "cluster query answered by \(answers.count) of \(others) other nodes",
                metadata: ["timeout_ms": "\(self.configuration.requestTimeoutMilliseconds)"]
            )
        }
        for answer in answers {
            guard case .object(let channels)? = try? JSONParser.parse(bytes: Array(answer.payload.readableBytesView))["channels"]
            else { continue }
            for (channel, count) in channels {
                guard case .number(let text) = count, let count = Int(text) else { continue }
                result[channel, default: 0] += count
            }
        }
        return result
    }

    /// Another node's query: this node's occupancy, sent to the reply subject.
    func answerQuery(_ message: NATSMessage) {
        guard let reply = message.reply, let receiver = self.receiver,
            let request = try? JSONParser.parse(bytes: Array(message.payload.readableBytesView)),
            let app = request["app"]?.stringValue
        else { return }
        let prefix = request["prefix"]?.stringValue
        Task {
            let occupancy = await receiver.localOccupancy(app: app, prefix: prefix)
            let channels = occupancy.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.number(String($0.value))) }
            let answer = ByteBuffer(string: JSONValue.object([("node", .string(self.nodeID)), ("channels", .object(channels))]).serialized)
            guard let client = self.state.withLockedValue({ $0.client }) else { return }
            _ = try? await self.threadPool.runIfActive { client.publish(reply, answer) }
        }
    }
}
