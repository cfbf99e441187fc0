import NIOConcurrencyHelpers
import NIOCore
public import PusherProtocol

/// The single-node backbone: publishing is a direct call into the local receiver and
/// presence and cache state live in this process. No copies, no network.
///
/// State is behind locks rather than in an actor because `publish` sits on the hot path
/// and must stay synchronous; presence calls are short critical sections.
public final class InProcessBackbone: Backbone {
    private struct ChannelKey: Hashable {
        var app: String
        var channel: String
    }

    private struct CacheSlot {
        var payload: ByteBuffer
        var expires: NIODeadline
    }

    private let receiver = NIOLockedValueBox<(any BackboneReceiver)?>(nil)
    private let rosters = NIOLockedValueBox<[ChannelKey: PresenceRoster]>([:])
    private let cache = NIOLockedValueBox<(slots: [ChannelKey: CacheSlot], writesSinceSweep: Int)>(([:], 0))

    public init() {}

    public func start(receiver: any BackboneReceiver) async throws {
        self.receiver.withLockedValue { $0 = receiver }
        receiver.backboneConnectionChanged(isConnected: true)
    }

    public func shutdown() async {
        self.receiver.withLockedValue { $0 = nil }
    }

    /// Interest needs no bookkeeping in one process: every publish reaches the local broker.
    public func join(app: String, channel: String) {}

    public func leave(app: String, channel: String) {}

    /// The node is the cluster: its own change is the cluster's, reported at once.
    public func nodeOccupancyChanged(app: String, channel: String, hasSubscribers: Bool) {
        self.receiver.withLockedValue { $0 }?.channelOccupancyChanged(app: app, channel: channel, isOccupied: hasSubscribers)
    }

    public func publish(_ event: BackboneEvent) {
        if event.isCached {
            let now = NIODeadline.now()
            self.cache.withLockedValue { cache in
                cache.slots[ChannelKey(app: event.app, channel: event.channel)] = CacheSlot(
                    payload: event.payload,
                    expires: now + CachePolicy.timeToLive
                )
                // Amortised expiry: cache channels nobody reads again must not pin memory
                // forever. Sweeping once per as many writes as there are slots keeps the
                // cost per write constant.
                cache.writesSinceSweep += 1
                if cache.writesSinceSweep >= max(1024, cache.slots.count) {
                    cache.slots = cache.slots.filter { $0.value.expires > now }
                    cache.writesSinceSweep = 0
                }
            }
        }
        self.receiver.withLockedValue { $0 }?.deliver(event)
    }

    public func terminateUser(app: String, userID: String) {
        self.receiver.withLockedValue { $0 }?.terminateUser(app: app, userID: userID)
    }

    public func lastEvent(app: String, channel: String) async -> CachedEvent? {
        let key = ChannelKey(app: app, channel: channel)
        let now = NIODeadline.now()
        return self.cache.withLockedValue { cache in
            guard let entry = cache.slots[key] else { return nil }
            guard entry.expires > now else {
                cache.slots[key] = nil
                return nil
            }
            return CachedEvent(payload: entry.payload, timeToLive: entry.expires - now)
        }
    }

    public func addMember(
        app: String,
        channel: String,
        socket: SocketID,
        member: PresenceMember,
        maximumMembers: Int
    ) async throws(PresenceError) -> PresenceJoin {
        let key = ChannelKey(app: app, channel: channel)
        let result: Result<PresenceJoin, PresenceError> = self.rosters.withLockedValue { rosters in
            let join = Result { () throws(PresenceError) in
                try rosters[key, default: PresenceRoster()].add(socket: socket, member: member, maximumMembers: maximumMembers)
            }
            if case .success(let join) = join, join.isFirstSocketOfUser {
                // Announced under the roster lock, so announcements leave in roster order.
                self.announce(.memberAdded(channel: channel, member: member), app: app, channel: channel, excluding: socket)
            }
            return join
        }
        return try result.get()
    }

    public func removeMember(app: String, channel: String, socket: SocketID) async -> PresenceMember? {
        let key = ChannelKey(app: app, channel: channel)
        return self.rosters.withLockedValue { rosters in
            let removed = rosters[key]?.remove(socket: socket)
            if rosters[key]?.isEmpty == true { rosters[key] = nil }
            if let removed {
                self.announce(.memberRemoved(channel: channel, userID: removed.userID), app: app, channel: channel, excluding: nil)
            }
            return removed
        }
    }

    private func announce(_ event: ServerEvent, app: String, channel: String, excluding socket: SocketID?) {
        let announcement = BackboneEvent(app: app, channel: channel, event: event, excludedSocket: socket, isCached: false)
        self.receiver.withLockedValue { $0 }?.deliver(announcement)
    }

    public func members(app: String, channel: String) async -> [PresenceMember] {
        self.rosters.withLockedValue { $0[ChannelKey(app: app, channel: channel)]?.members ?? [] }
    }

    /// The whole cluster is this node.
    public func occupiedChannels(app: String, prefix: String?) async -> [String: Int] {
        await self.receiver.withLockedValue { $0 }?.localOccupancy(app: app, prefix: prefix) ?? [:]
    }
}
