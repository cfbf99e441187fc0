public import ServiceLifecycle

/// The broker runs as one service of the node's `ServiceGroup`: it starts the backbone
/// and the shards' sweeps, then holds until graceful shutdown and leaves the backbone.
extension Broker: Service {
    public func run() async throws {
        try await self.start()
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
