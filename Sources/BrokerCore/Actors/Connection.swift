import Backbone
import BrokerConfig
import CoreMetrics
import Logging
public import NIOCore
public import PusherProtocol

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
    nonisolated let outbound: any Outbound
    private let clientAddress: String?

    var subscriptions = SmallDictionary<String, Subscription>()
    var user: (id: String, data: String)?
    var activity: ActivityMonitor
    var clientEvents: TokenBucket
    var inbound: InboundRateLimiter
    var isOpen = true
    var hasLoggedRefusal = false
    let connectedAt: NIODeadline

    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.shard.unownedExecutor }

    init(
        socketID: SocketID,
        app: App,
        shard: Shard,
        broker: Broker,
        outbound: any Outbound,
        clientAddress: String?,
        now: NIODeadline
    ) {
        self.socketID = socketID
        self.app = app
        self.shard = shard
        self.broker = broker
        self.outbound = outbound
        self.clientAddress = clientAddress
        let limits = app.limits
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

    /// The app's limits, read through the app rather than copied: a copy is a few hundred
    /// bytes per connection, and DESIGN.md budgets 4 KiB for an idle one.
    var limits: Limits { self.app.limits }

    /// The shard's logger with the connection's metadata, built when something is logged
    /// (rarely: refusals and slow consumers). Stored, the logger and its metadata
    /// dictionary would cost every idle connection a few hundred bytes.
    var logger: Logger {
        var logger = self.shard.logger
        logger[metadataKey: "connection.id"] = "\(self.socketID)"
        logger[metadataKey: "app.id"] = "\(self.app.id)"
        if let clientAddress = self.clientAddress { logger[metadataKey: "client.address"] = "\(clientAddress)" }
        return logger
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
        // Events already published to its rooms go out before the close frame.
        self.shard.assumeIsolated { $0.writeRun() }
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
        self.subscriptions.removeAll()
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

    // MARK: - Refusals

    func refuse(_ reason: RefusalReason, code: PusherCode?, message: String) {
        self.record(reason, "refused client input", ["reason": "\(message)"])
        self.outbound.send(.error(code: code, message: message))
    }

    func subscriptionError(_ channel: String, _ reason: RefusalReason, type: String, _ error: String, status: Int) {
        self.record(reason, "subscription refused", ["channel": "\(channel)", "reason": "\(error)"])
        self.outbound.send(.subscriptionError(channel: channel, type: type, error: error, status: status))
    }

    /// Counts the refusal and logs it: the connection's first at info, later ones at
    /// debug, so a client that keeps getting it wrong cannot flood the log.
    func record(_ reason: RefusalReason, _ message: Logger.Message, _ metadata: Logger.Metadata) {
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
enum Subscription {
    case pending(PendingOutbound)
    case active(ChannelName, member: PresenceMember?)
}
