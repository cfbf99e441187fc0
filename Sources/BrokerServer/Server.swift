public import BrokerConfig
public import BrokerCore
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
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

    public init(
        configuration: Config,
        broker: Broker,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.broker = broker
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let channel = try await self.bind()
        let address = channel.localAddress!
        self.logger.info("listening", metadata: ["address": "\(address)"])
        self.onListening(address)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    /// Binds the listener; exposed for tests that need the port before serving.
    func bind() async throws -> any Channel {
        let api = HTTPAPI(broker: self.broker, limits: self.configuration.limits)
        let upgrader = PusherWebSocketUpgrader(
            broker: self.broker,
            maximumMessageBytes: self.configuration.limits.maxPayloadBytes
        )
        let maximumBodyBytes = self.configuration.limits.maxHTTPBodyBytes
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(
                        channel.pipeline.syncOperations, upgrader: upgrader,
                        api: HTTPAPIHandler(api: api, maximumBodyBytes: maximumBodyBytes)
                    )
                }
            }
            .bind(host: self.configuration.server.host, port: self.configuration.server.port)
            .get()
    }

    /// HTTP/1.1 with an upgrade path. On upgrade every HTTP handler, the API handler
    /// included, leaves the pipeline, so a WebSocket's pipeline holds only its decoder
    /// and its ``PusherSocketHandler``.
    private static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        upgrader: PusherWebSocketUpgrader,
        api: HTTPAPIHandler
    ) throws {
        let responseEncoder = HTTPResponseEncoder()
        let requestDecoder = ByteToMessageHandler(
            HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)
        )
        let pipelining = HTTPServerPipelineHandler()
        let errors = HTTPServerProtocolErrorHandler()
        let upgrade = HTTPServerUpgradeHandler(
            upgraders: [upgrader],
            httpEncoder: responseEncoder,
            extraHTTPHandlers: [requestDecoder, pipelining, errors, api],
            upgradeCompletionHandler: { _ in }
        )
        try pipeline.addHandlers([responseEncoder, requestDecoder, pipelining, errors, upgrade, api])
    }
}
