import NIOCore
import NIOPosix

/// The generator's event loops, statistics and connector for one scenario run.
///
/// Subscribers are spread over every loop; the publisher runs on the first, and with
/// `taskset -c 1` and `--threads 1` the whole generator is one thread on one core.
struct BenchEnvironment: Sendable {
    let group: MultiThreadedEventLoopGroup
    let registry: StatisticsRegistry
    let connector: SubscriberConnector
    let broker: BrokerOptions

    /// Runs `body` with a fresh environment and shuts the loops down afterwards.
    static func with<Result: Sendable>(
        _ broker: BrokerOptions,
        _ body: (BenchEnvironment) async throws -> Result
    ) async throws -> Result {
        FileDescriptorLimit.raiseToMaximum()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: broker.threads)
        let registry = StatisticsRegistry(group: group)
        let environment = BenchEnvironment(
            group: group,
            registry: registry,
            connector: SubscriberConnector(
                address: broker.address,
                appKey: broker.key,
                target: broker.target,
                group: group,
                registry: registry
            ),
            broker: broker
        )
        let result: Result
        do {
            result = try await body(environment)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        return result
    }

    var serverSample: ProcessSample? {
        self.broker.serverPID.flatMap { ProcessSample(pid: $0) }
    }

    /// Closes the generator's own sockets without counting them as disconnects.
    func close(_ channels: [any Channel]) async {
        self.registry.isShuttingDown = true
        for channel in channels { channel.close(promise: nil) }
        for channel in channels { try? await channel.closeFuture.get() }
        self.registry.isShuttingDown = false
    }

    /// How events of `dataBytes` reach the broker under test.
    func makePublishTarget(dataBytes: Int) -> PublishTarget {
        let address = self.broker.publishAddress
        switch self.broker.target {
        case .pusher:
            let builder = PublishRequestBuilder(
                host: address.description,
                appID: self.broker.appID,
                appKey: self.broker.key,
                secret: self.broker.secret,
                dataBytes: dataBytes
            )
            return .pusherHTTP(address: address, requestBuilder: builder)
        case .nats:
            return .nats(address: address, dataBytes: dataBytes)
        }
    }
}
