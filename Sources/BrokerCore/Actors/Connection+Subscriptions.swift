import Backbone
import BrokerConfig
import CoreMetrics
import Logging
import NIOCore
import PusherProtocol

/// Subscribing and unsubscribing: channel rules, authorization, presence joins that wait
/// for the cluster roster, cache replay (PROTOCOL.md, "Channels").
extension Connection {

    func subscribe(_ message: ClientMessage) {
        guard let payload = message.payload, let name = payload["channel"]?.stringValue else {
            self.refuse(.malformed, code: nil, message: "pusher:subscribe needs data {\"channel\": \"...\"}")
            return
        }
        let channel: ChannelName
        do {
            channel = try ChannelName(validating: name)
        } catch {
            self.subscriptionError(name, .invalidChannel, type: "InvalidChannel", error.description, status: 400)
            return
        }
        switch self.subscriptions[name] {
        case .active(let active, member: nil)?:
            // A repeated subscribe is confirmed again; it changes nothing.
            self.outbound.send(.subscriptionSucceeded(channel: active.name))
            return
        case .some:
            self.refuse(.malformed, code: nil, message: "Already subscribed to \(name)")
            return
        case nil:
            break
        }
        guard self.subscriptions.count < self.limits.maxChannelsPerConnection else {
            self.subscriptionError(
                name, .channelsPerConnection, type: "LimitReached",
                "At most \(self.limits.maxChannelsPerConnection) channels per connection", status: 400
            )
            return
        }
        let auth = payload["auth"]?.stringValue ?? ""
        let channelData = payload["channel_data"]?.stringValue

        switch channel.kind {
        case .public:
            self.activate(channel, member: nil)
        case .private, .privateEncrypted:
            guard self.app.channelAuthorization.isValid(auth: auth, socketID: self.socketID, channel: channel, channelData: nil) else {
                self.subscriptionError(name, .authorization, type: "AuthError", "Invalid signature for channel \(name)", status: 401)
                return
            }
            self.activate(channel, member: nil)
        case .presence:
            guard let channelData,
                self.app.channelAuthorization.isValid(auth: auth, socketID: self.socketID, channel: channel, channelData: channelData)
            else {
                self.subscriptionError(name, .authorization, type: "AuthError", "Invalid signature for channel \(name)", status: 401)
                return
            }
            let member: PresenceMember
            do {
                member = try PresenceMember(
                    channelData: channelData,
                    maximumUserIDLength: self.limits.maxUserIDLength,
                    maximumUserInfoBytes: self.limits.maxPresenceUserInfoBytes
                )
            } catch {
                self.subscriptionError(name, .presenceData, type: "InvalidChannelData", error.description, status: 400)
                return
            }
            self.joinPresence(channel, member: member)
        case .user(let id):
            guard self.user?.id == id else {
                self.subscriptionError(name, .authorization, type: "AuthError", "Only the signed-in user \(id) may subscribe", status: 403)
                return
            }
            self.activate(channel, member: nil)
        }
    }

    /// Presence needs the cluster-wide roster before it can answer, so it completes
    /// asynchronously. The socket joins the room at once, behind a ``PendingOutbound``
    /// that holds what the channel publishes meanwhile; once the roster answers, the
    /// snapshot goes out first and the held events after it. A member who joins while
    /// the roster is being read is therefore never missed, whatever the thread timing.
    private func joinPresence(_ channel: ChannelName, member: PresenceMember) {
        let pending = PendingOutbound()
        self.subscriptions[channel.name] = .pending(pending)
        self.enterRoom(channel.name, through: pending)
        let app = self.app
        let limits = self.limits
        Task {
            let join: PresenceJoin
            do throws(PresenceError) {
                join = try await self.broker.backbone.addMember(
                    app: app.id, channel: channel.name, socket: self.socketID, member: member,
                    maximumMembers: limits.maxPresenceMembers
                )
                if join.isFirstSocketOfUser {
                    self.broker.eventSink?.record(.memberAdded(channel: channel.name, userID: member.userID), app: app)
                }
            } catch {
                guard case .pending(let current)? = self.subscriptions[channel.name], current === pending else { return }
                self.subscriptions[channel.name] = nil
                self.leaveRoom(channel.name)
                switch error {
                case .channelFull(let maximum):
                    self.subscriptionError(
                        channel.name, .presenceMembers, type: "LimitReached",
                        "Presence channel is full (\(maximum) members)", status: 403
                    )
                case .unavailable:
                    self.subscriptionError(
                        channel.name, .presenceUnavailable, type: "BackboneUnavailable",
                        "The cluster's presence roster is unreachable; retry later", status: 503
                    )
                }
                return
            }
            guard self.isOpen, case .pending(let current)? = self.subscriptions[channel.name], current === pending else {
                // Closed or unsubscribed while the roster answered: undo the join.
                await self.leavePresence(channel.name)
                return
            }
            guard !pending.overflowed else {
                await self.leavePresence(channel.name)
                self.close(code: .overCapacity, reason: "Too many events arrived while joining \(channel.name)")
                return
            }
            self.enterRoom(channel.name, through: self.outbound, presenceRevision: join.revision)
            self.activate(channel, member: member, presence: join.snapshot)
            for frame in pending.frames(consistentWith: join.snapshot) { self.outbound.write(frame) }
            self.outbound.flush()
        }
    }

    private func activate(_ channel: ChannelName, member: PresenceMember?, presence: PresenceSnapshot? = nil) {
        self.subscriptions[channel.name] = .active(channel, member: member)
        self.app.metrics.subscriptions.increment()
        if presence == nil { self.enterRoom(channel.name, through: self.outbound) }
        self.outbound.send(.subscriptionSucceeded(channel: channel.name, presence: presence))
        if channel.isCache { self.replayCache(channel.name) }
    }

    private func replayCache(_ name: String) {
        Task {
            let cached = await self.broker.backbone.lastEvent(app: self.app.id, channel: name)
            guard self.isOpen, case .active = self.subscriptions[name] else { return }
            if let cached {
                self.outbound.write(OutboundFrame(text: cached.payload))
                self.outbound.flush()
            } else {
                self.outbound.send(.cacheMiss(channel: name))
                self.broker.eventSink?.record(.cacheMiss(channel: name), app: self.app)
            }
        }
    }

    func unsubscribe(_ message: ClientMessage) {
        guard let name = message.payload?["channel"]?.stringValue else {
            self.refuse(.malformed, code: nil, message: "pusher:unsubscribe needs data {\"channel\": \"...\"}")
            return
        }
        guard let subscription = self.subscriptions.removeValue(forKey: name) else { return }
        self.release(name, subscription)
    }

    func release(_ name: String, _ subscription: Subscription) {
        self.leaveRoom(name)
        // A pending presence join is undone by its own task when it sees the subscription gone.
        guard case .active(_, let member) = subscription else { return }
        self.app.metrics.subscriptions.decrement()
        // Leaving a presence channel: the backbone announces member_removed if it was the user's last socket.
        guard member != nil else { return }
        let socketID = self.socketID
        let backbone = self.broker.backbone
        let app = self.app
        let sink = self.broker.eventSink
        Task {
            if let removed = await backbone.removeMember(app: app.id, channel: name, socket: socketID) {
                sink?.record(.memberRemoved(channel: name, userID: removed.userID), app: app)
            }
        }
    }

    /// Joins the shard's room for `name`, or re-points an existing entry at `outbound`.
    /// - Parameter presenceRevision: the roster version the socket's snapshot showed.
    private func enterRoom(_ name: String, through outbound: any Outbound, presenceRevision: UInt64? = nil) {
        let key = RoomKey(app: self.app.id, channel: name)
        let app = self.app
        self.shard.assumeIsolated {
            $0.subscribe(self.socketID, outbound: outbound, to: key, of: app, presenceRevision: presenceRevision ?? 0)
        }
    }

    private func leaveRoom(_ name: String) {
        let key = RoomKey(app: self.app.id, channel: name)
        let app = self.app
        self.shard.assumeIsolated { $0.unsubscribe(self.socketID, from: key, of: app) }
    }

    private func leavePresence(_ name: String) async {
        if let removed = await self.broker.backbone.removeMember(app: self.app.id, channel: name, socket: self.socketID) {
            self.broker.eventSink?.record(.memberRemoved(channel: name, userID: removed.userID), app: self.app)
        }
    }
}
