public import NIOCore
public import PusherProtocol
import Backbone
import BrokerConfig
import Logging
import CoreMetrics

/// One client socket: what it is subscribed to, who it signed in as, how active it is.
///
/// Runs on its socket's event loop, as its shard does, so the transport hands it frames
/// synchronously. Everything a client can get wrong is answered here, with the specific
/// `pusher:error`, `pusher:subscription_error` or close code, and logged once at debug
/// level: bad input is the client's problem, not the operator's.
public actor Connection {
    public nonisolated let socketID: SocketID
    public nonisolated let app: App
    nonisolated let shard: Shard
    nonisolated let broker: Broker
    private nonisolated let outbound: any Outbound
    private let logger: Logger
    private let limits: Limits

    private var subscriptions: [String: Subscription] = [:]
    private var user: (id: String, data: String)?
    private var activity: ActivityMonitor
    private var clientEvents: TokenBucket
    private var inbound: InboundRateLimiter
    private var isOpen = true
    private var hasLoggedRefusal = false
    private let connectedAt: NIODeadline

    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.shard.unownedExecutor }

    init(
        socketID: SocketID,
        app: App,
        shard: Shard,
        broker: Broker,
        outbound: any Outbound,
        logger: Logger,
        now: NIODeadline
    ) {
        self.socketID = socketID
        self.app = app
        self.shard = shard
        self.broker = broker
        self.outbound = outbound
        self.logger = logger
        let limits = app.limits
        self.limits = limits
        self.activity = ActivityMonitor(
            connectedAt: now,
            activityTimeout: .seconds(Int64(limits.activityTimeoutSeconds)),
            pongTimeout: .seconds(Int64(limits.pongTimeoutSeconds)),
            signInTimeout: app.configuration.userAuthenticationTimeoutSeconds.map { .seconds(Int64($0)) }
        )
        self.clientEvents = TokenBucket(
            ratePerSecond: limits.clientEventsPerSecond,
            burst: limits.clientEventsBurst,
            now: now
        )
        self.inbound = InboundRateLimiter(limits: limits, now: now)
        self.connectedAt = now
    }

    /// Sends `pusher:connection_established`; the first frame of every Pusher connection.
    public func start() {
        self.outbound.send(
            .connectionEstablished(socketID: self.socketID, activityTimeout: self.limits.activityTimeoutSeconds)
        )
    }

    /// A complete text message from the client.
    public func receive(text: [UInt8], now: NIODeadline) {
        self.app.metrics.websocketMessagesIn.increment()
        self.app.metrics.websocketBytesIn.increment(by: Int64(text.count))
        guard self.isOpen, self.admitInbound(now: now) else { return }
        let message: ClientMessage
        do {
            message = try ClientMessage(parsing: text)
        } catch {
            self.refuse(.malformed, code: nil, message: error.description)
            return
        }
        switch message.event {
        case "pusher:ping":
            self.outbound.send(.pong)
        case "pusher:pong":
            break
        case "pusher:subscribe":
            self.subscribe(message)
        case "pusher:unsubscribe":
            self.unsubscribe(message)
        case "pusher:signin":
            self.signIn(message)
        case let event where event.hasPrefix("client-"):
            self.relayClientEvent(message, now: now)
        default:
            self.refuse(.malformed, code: nil, message: "Unsupported event '\(message.event)'; client events must start with client-")
        }
    }

    /// Any other frame (an RFC 6455 ping or pong, a binary message) counts as activity
    /// and against the inbound rate.
    /// - Returns: whether the frame is within the rate and should be answered.
    @discardableResult
    public func receivedOtherFrame(now: NIODeadline) -> Bool {
        self.isOpen && self.admitInbound(now: now)
    }

    /// A binary message: not part of the Pusher protocol, refused without closing.
    public func receivedBinary(now: NIODeadline) {
        guard self.receivedOtherFrame(now: now) else { return }
        self.refuse(.malformed, code: nil, message: "Binary messages are not part of the Pusher protocol; send JSON text")
    }

    /// The transport could not hand queued frames to a client that stopped reading and
    /// its outbound budget is spent: it is closed, never left to miss events silently.
    public func outboundBudgetExceeded() {
        self.logger.info("closing slow consumer", metadata: ["limit.bytes": "\(self.limits.maxOutboundBufferBytes)"])
        self.app.metrics.slowConsumerCloses.increment()
        self.close(code: .overCapacity, reason: "Client is not reading fast enough")
    }

    private func admitInbound(now: NIODeadline) -> Bool {
        self.activity.received(at: now)
        switch self.inbound.admit(now: now) {
        case .accept:
            return true
        case .drop:
            self.refuse(
                .inboundRate,
                code: .clientEventRejected,
                message: "Too many messages: at most \(self.limits.inboundMessagesPerSecond) per second"
            )
            return false
        case .close:
            self.app.metrics.refused(.inboundRate)
            self.close(code: .clientEventRejected, reason: "Too many messages; connection closed")
            return false
        }
    }

    /// Closes with a Pusher code: `pusher:error` first (pusher-js reads the code from it
    /// during the handshake), then the close frame after anything already queued.
    public func close(code: PusherCode, reason: String) {
        guard self.isOpen else { return }
        self.outbound.send(.error(code: code, message: reason))
        self.outbound.close(code: code, reason: reason)
        self.isOpen = false
    }

    /// The transport reports the socket is gone, and the close code it ended with (1006
    /// when it simply dropped); releases every subscription and the user.
    public func closed(code: UInt16, now: NIODeadline = .now()) {
        self.app.metrics.closed(code: code, after: now - self.connectedAt)
        self.isOpen = false
        for (name, subscription) in self.subscriptions {
            self.release(name, subscription)
        }
        self.subscriptions = [:]
        let userID = self.user?.id
        self.shard.assumeIsolated { $0.forget(self, userID: userID) }
    }

    /// Called by the shard's sweep: server ping after silence, 4201 when unanswered,
    /// 4009 when sign-in is required and late.
    func checkActivity(now: NIODeadline) {
        guard self.isOpen else { return }
        switch self.activity.check(now: now, isSignedIn: self.user != nil) {
        case .none:
            break
        case .sendPing:
            self.outbound.send(.ping)
        case .pongTimedOut:
            self.close(code: .pongNotReceived, reason: "Pong reply not received in time")
        case .signInTimedOut:
            self.close(code: .unauthorized, reason: "Sign-in did not complete in time")
        }
    }

    // MARK: - Subscriptions

    private func subscribe(_ message: ClientMessage) {
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
            do {
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
                self.subscriptionError(
                    channel.name, .presenceMembers, type: "LimitReached",
                    "Presence channel is full (\(limits.maxPresenceMembers) members)", status: 403
                )
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
            self.enterRoom(channel.name, through: self.outbound)
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

    private func unsubscribe(_ message: ClientMessage) {
        guard let name = message.payload?["channel"]?.stringValue else {
            self.refuse(.malformed, code: nil, message: "pusher:unsubscribe needs data {\"channel\": \"...\"}")
            return
        }
        guard let subscription = self.subscriptions.removeValue(forKey: name) else { return }
        self.release(name, subscription)
    }

    private func release(_ name: String, _ subscription: Subscription) {
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
    private func enterRoom(_ name: String, through outbound: any Outbound) {
        let key = RoomKey(app: self.app.id, channel: name)
        let app = self.app
        self.shard.assumeIsolated { $0.subscribe(self.socketID, outbound: outbound, to: key, of: app) }
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

    // MARK: - Sign-in

    private func signIn(_ message: ClientMessage) {
        guard let payload = message.payload, let auth = payload["auth"]?.stringValue,
            let userData = payload["user_data"]?.stringValue
        else {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: "pusher:signin needs data {\"auth\": \"...\", \"user_data\": \"...\"}")
            return
        }
        guard self.app.channelAuthorization.isValid(auth: auth, socketID: self.socketID, userData: userData) else {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: "Invalid signature for pusher:signin")
            return
        }
        let parsed: UserData
        do {
            parsed = try UserData(parsing: userData, maximumIDLength: self.limits.maxUserIDLength)
        } catch {
            self.app.metrics.refused(.signIn)
            self.close(code: .unauthorized, reason: error.description)
            return
        }
        if let previous = self.user, previous.id != parsed.id {
            self.shard.assumeIsolated { $0.signOut(self, userID: previous.id) }
        }
        self.user = (parsed.id, userData)
        self.shard.assumeIsolated { $0.signIn(self, userID: parsed.id) }
        self.outbound.send(.signinSuccess(userData: userData))
    }

    // MARK: - Client events

    private func relayClientEvent(_ message: ClientMessage, now: NIODeadline) {
        guard self.app.configuration.clientEvents else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client events are not enabled for this app")
            return
        }
        guard let name = message.channel, case .active(let channel, let member)? = self.subscriptions[name] else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client event on a channel this socket is not subscribed to")
            return
        }
        guard channel.acceptsClientEvents else {
            self.refuse(.clientEventRejected, code: .clientEventRejected, message: "Client events are only allowed on private and presence channels")
            return
        }
        guard message.event.count <= self.limits.maxEventNameLength else {
            self.refuse(.eventSize, code: .clientEventRejected, message: "Event name is longer than \(self.limits.maxEventNameLength) characters")
            return
        }
        let data = message.data?.serialized
        guard (data?.utf8.count ?? 0) <= self.limits.maxEventBytes else {
            self.refuse(.eventSize, code: .clientEventRejected, message: "Event data is larger than \(self.limits.maxEventBytes) bytes")
            return
        }
        guard self.clientEvents.tryConsume(now: now) else {
            self.refuse(
                .clientEventRate,
                code: .clientEventRejected,
                message: "Client event rate limit exceeded: at most \(self.limits.clientEventsPerSecond) per second"
            )
            return
        }
        self.app.metrics.clientEvents.increment()
        let event = ServerEvent(event: message.event, channel: name, data: data.map { .json($0) }, userID: member?.userID)
        self.broker.publish(app: self.app, channel: channel, event: event, excluding: self.socketID)
        // Webhooks carry the data as the client sent it: a string as is, anything else as JSON text.
        let webhookData = message.data?.stringValue ?? data
        self.broker.eventSink?.record(
            .clientEvent(channel: name, event: message.event, data: webhookData, socketID: self.socketID, userID: member?.userID),
            app: self.app
        )
    }

    // MARK: - Refusals

    private func refuse(_ reason: RefusalReason, code: PusherCode?, message: String) {
        self.record(reason, "refused client input", ["reason": "\(message)"])
        self.outbound.send(.error(code: code, message: message))
    }

    private func subscriptionError(_ channel: String, _ reason: RefusalReason, type: String, _ error: String, status: Int) {
        self.record(reason, "subscription refused", ["channel": "\(channel)", "reason": "\(error)"])
        self.outbound.send(.subscriptionError(channel: channel, type: type, error: error, status: status))
    }

    /// Counts the refusal and logs it: the connection's first at info, later ones at
    /// debug, so a client that keeps getting it wrong cannot flood the log.
    private func record(_ reason: RefusalReason, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        self.app.metrics.refused(reason)
        var metadata = metadata
        metadata["limit"] = "\(reason.rawValue)"
        if self.hasLoggedRefusal {
            self.logger.debug(message, metadata: metadata)
        } else {
            self.hasLoggedRefusal = true
            self.logger.info(message, metadata: metadata)
        }
    }
}

/// A channel a connection asked for: `pending` while the presence roster answers.
private enum Subscription {
    case pending(PendingOutbound)
    case active(ChannelName, member: PresenceMember?)
}
