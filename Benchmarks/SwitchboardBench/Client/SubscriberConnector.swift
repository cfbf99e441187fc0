import NIOCore
import NIOPosix

/// Opens benchmark subscribers: TCP connect, WebSocket handshake
/// (``WebSocketClientHandler``), then the target's subscribe exchange
/// (``SubscriberSession``); resolves once the broker confirms it.
///
/// Handshakes run with bounded concurrency so the server's accept backlog (1024) never
/// overflows: an overflow costs a one-second SYN retransmit and would show up as a
/// connect rate the server is not responsible for.
struct SubscriberConnector: Sendable {
    var address: BrokerAddress
    var appKey: String
    var target: BenchTarget
    var group: any EventLoopGroup
    var registry: StatisticsRegistry
    /// Largest frame the subscriber accepts; events are at most `max_event_bytes` (10 KiB
    /// by default) plus their envelope.
    var maximumFrameBytes = 1 << 20
    /// Handshakes allowed in flight at once.
    var concurrency = 128

    private static let handshakeTimeout = TimeAmount.seconds(15)

    /// Connects one subscriber per name, `concurrency` at a time.
    /// - Returns: the channels, in the order of `channelNames`.
    func connect(channelNames: [String]) async throws -> [any Channel] {
        try await ConnectWindow.open(count: channelNames.count, width: self.concurrency, on: self.group.next()) {
            self.connect(channelName: channelNames[$0])
        }.get()
    }

    /// - Parameter isSlow: shrink the receive buffer to 4 KiB before connecting and stop
    ///   reading once subscribed: the slow consumer of the `slow-consumer` scenario.
    func connect(channelName: String, isSlow: Bool = false) -> EventLoopFuture<any Channel> {
        switch self.target {
        case .pusher: self.connect(PusherSubscriberSession(channelName: channelName), isSlow: isSlow)
        case .nats: self.connect(NATSSubscriberSession(channelName: channelName), isSlow: isSlow)
        }
    }

    private func connect<Session: SubscriberSession>(_ session: Session, isSlow: Bool) -> EventLoopFuture<any Channel> {
        let loop = self.group.next()
        let subscribed = loop.makePromise(of: Void.self)
        let statistics = self.registry.statistics(for: loop)
        let registry = self.registry
        let host = self.address.host
        let path = Session.upgradePath(appKey: self.appKey)
        let maximumFrameBytes = self.maximumFrameBytes
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(Self.handshakeTimeout)
        if isSlow {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 4096)
        }
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandlers([
                    WebSocketClientHandler(host: host, path: path, maximumFrameBytes: maximumFrameBytes),
                    SubscriberHandler(
                        session: session,
                        isSlow: isSlow,
                        registry: registry,
                        statistics: statistics,
                        subscribed: subscribed
                    ),
                ])
            }
        }
        let timeout = loop.scheduleTask(in: Self.handshakeTimeout) {
            subscribed.fail(HandshakeTimeoutError())
        }
        subscribed.futureResult.whenComplete { _ in timeout.cancel() }
        let connected: EventLoopFuture<any Channel>
        do {
            // An address rather than `connect(host:port:)`, which would run a resolver and
            // Happy Eyeballs for each of thousands of connections to one literal address.
            connected = bootstrap.connect(to: try self.address.socketAddress)
        } catch {
            connected = loop.makeFailedFuture(error)
        }
        return connected.flatMap { channel in
            channel.closeFuture.whenComplete { _ in subscribed.fail(ChannelError.ioOnClosedChannel) }
            return subscribed.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }
}

/// A subscriber did not reach `subscription_succeeded` within the handshake timeout.
struct HandshakeTimeoutError: Error, CustomStringConvertible {
    var description: String { "a subscriber did not subscribe within 15 s" }
}
