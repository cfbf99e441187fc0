public import BrokerConfig
public import BrokerCore
public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// The node's one listener: Pusher WebSockets on `/app/{key}` and the HTTP API on
/// `/apps/{id}/...`, on the same port as Pusher Channels serves them.
///
/// A `Service`: `run()` binds, reports the bound address, serves until graceful shutdown
/// and then closes the listener. Each accepted socket stays on the event loop that
/// accepted it, which is its shard's.
public struct Server: Service {
    private let configuration: Config
    private let broker: Broker
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void
    /// Present when `server.tls` is configured; every connection then starts with TLS.
    public let tls: TLSContextStore?
    private let metrics: MetricsEndpoint?

    /// - Throws: when `server.tls` names files that are not a usable certificate and key.
    public init(
        configuration: Config,
        broker: Broker,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: MetricsEndpoint? = nil,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.broker = broker
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
        self.metrics = metrics
        self.tls = try configuration.server.tls.map(TLSContextStore.init(configuration:))
    }

    public func run() async throws {
        let channel = try await self.bind()
        let address = channel.localAddress!
        self.broker.markListening()
        self.logger.info("listening", metadata: ["address": "\(address)"])
        self.onListening(address)
        let broker = self.broker
        let logger = self.logger
        let grace = TimeAmount.seconds(Int64(self.configuration.drain.graceSeconds))
        // The listener stays open while draining so the HTTP API keeps serving; it closes
        // once the last socket has gone or the grace period is over. Closes end at 80% of
        // the grace period, leaving the rest for the last close handshakes. Cancellation
        // (a second signal) closes it at once.
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await gracefulShutdown()
                    } catch {
                        return
                    }
                    await broker.drain(over: .nanoseconds(grace.nanoseconds * 8 / 10), deadline: .now() + grace, logger: logger)
                    logger.info("closing listener")
                    channel.close(promise: nil)
                }
                try? await channel.closeFuture.get()
                group.cancelAll()
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Binds the listener; exposed for tests that need the port before serving.
    func bind() async throws -> any Channel {
        let http = HTTPPipeline(api: HTTPAPI(broker: self.broker, metrics: self.metrics), limits: self.configuration.limits)
        let broker = self.broker
        let trustedProxies = self.configuration.server.trustedProxies
        let tls = self.tls
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // ServerBootstrap sets TCP_NODELAY on the listener, and Linux gives accepted
            // sockets the listener's options: setting it again would be a system call per
            // connection.
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // NIO keeps a socket's receive buffers for reuse, one per read allowed
                    // per wake-up (four by default, 2 KiB each): on an idle WebSocket that
                    // was most of its memory. One read per wake-up and a 256-byte first
                    // buffer keep one small buffer; reads of bigger messages grow the
                    // allocator and use transient buffers. Set here rather than as child
                    // channel options, which NIO applies through a chain of futures.
                    try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
                    try channel.syncOptions?.setOption(
                        .recvAllocator,
                        value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)
                    )
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                    }
                    // A WebSocket's pipeline ends up holding only its `PusherSocketHandler`;
                    // an API connection's, the HTTP handlers.
                    try channel.pipeline.syncOperations.addHandler(
                        WebSocketUpgradeHandler(broker: broker, trustedProxies: trustedProxies, http: http)
                    )
                }
            }
            .bind(host: self.configuration.server.host, port: self.configuration.server.port)
            .get()
    }
}

/// ServiceLifecycle logs its services by description: name the listener, never dump the
/// config it holds (app secrets, webhook URLs).
extension Server: CustomStringConvertible {
    public var description: String {
        "Server(\(self.configuration.server.host):\(self.configuration.server.port), tls: \(self.tls != nil ? "on" : "off"))"
    }
}
