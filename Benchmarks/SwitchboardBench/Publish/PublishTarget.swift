import NIOCore
import NIOHTTP1
import NIOPosix

/// Where the ``Publisher`` connects and which protocol its connections speak.
enum PublishTarget: Sendable {
    /// The signed HTTP API of a Pusher-compatible broker.
    case pusherHTTP(address: BrokerAddress, requestBuilder: PublishRequestBuilder)
    /// A plain NATS client connection; events carry `dataBytes` of ``EventData``.
    case nats(address: BrokerAddress, dataBytes: Int)

    /// Opens one publishing connection on `loop`.
    func connect(on loop: any EventLoop) -> EventLoopFuture<any Channel> {
        let target = self
        let bootstrap = ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch target {
                    case .pusherHTTP(_, let requestBuilder):
                        // The builder writes well-formed headers; validating them again took
                        // ~10 us per request, all of it inside the latency the publisher times.
                        try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                        try channel.pipeline.syncOperations.addHandler(
                            PublishConnectionHandler(requestBuilder: requestBuilder)
                        )
                    case .nats(_, let dataBytes):
                        try channel.pipeline.syncOperations.addHandler(NATSPublishHandler(dataBytes: dataBytes))
                    }
                }
            }
        return bootstrap.connect(host: self.address.host, port: self.address.port)
    }

    /// The publishing handler of a channel from ``connect(on:)``; call on its event loop.
    func connection(in channel: any Channel) throws -> any PublishConnection {
        switch self {
        case .pusherHTTP: try channel.pipeline.syncOperations.handler(type: PublishConnectionHandler.self)
        case .nats: try channel.pipeline.syncOperations.handler(type: NATSPublishHandler.self)
        }
    }

    private var address: BrokerAddress {
        switch self {
        case .pusherHTTP(let address, _), .nats(let address, _): address
        }
    }
}
