import ArgumentParser
import Backbone
import BrokerConfig
import BrokerCore
import BrokerServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// `switchboard serve`: runs one node until SIGTERM or SIGINT.
///
/// Services start in list order and stop in reverse: the broker (and with it the
/// backbone) first up and last down, the listener last up and first down.
struct ServeCommand: AsyncParsableCommand {
    static let defaultConfigPath = "Config/switchboard.yaml"

    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run a Switchboard node.")

    @Option(name: .long, help: "The YAML config file.")
    var config: String = Self.defaultConfigPath

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchboard")
        let configuration: Config
        do {
            configuration = try ConfigLoader.load(contentsOf: self.config)
        } catch {
            printToStandardError("\(error)")
            throw ExitCode.failure
        }
        logger.info(
            "starting",
            metadata: [
                "config": "\(self.config)", "apps": "\(configuration.apps.count)",
                "backbone": "\(configuration.backbone.kind.rawValue)",
            ]
        )

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let broker = Broker(
            configuration: configuration,
            eventLoops: Array(eventLoopGroup.makeIterator()),
            backbone: Self.makeBackbone(configuration.backbone),
            logger: logger
        )
        let server = try Server(configuration: configuration, broker: broker, eventLoopGroup: eventLoopGroup, logger: logger) {
            address in
            // Tests and scripts read the bound port (config port 0) from this line.
            printToStandardOutput(
                "switchboard listening on \(configuration.server.host):\(address.port ?? configuration.server.port)"
            )
        }
        var services: [any Service] = [broker, server]
        if let tls = server.tls { services.append(CertificateReloadService(store: tls, logger: logger)) }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.drain.graceSeconds + 5)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await Self.run(group, forcedBySecondSignalLogger: logger)
        try await eventLoopGroup.shutdownGracefully()
        logger.info("stopped")
    }

    /// The first SIGTERM or SIGINT starts the drain (the group's graceful shutdown); a
    /// second one cancels the group, for an operator who will not wait for the drain.
    private static func run(_ group: ServiceGroup, forcedBySecondSignalLogger logger: Logger) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var count = 0
                for await signal in signals {
                    count += 1
                    guard count >= 2 else { continue }
                    logger.warning("second signal: stopping without finishing the drain", metadata: ["signal": "\(signal)"])
                    throw CancellationError()
                }
            }
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }

    private static func makeBackbone(_ configuration: BackboneConfiguration) -> any Backbone {
        switch configuration.kind {
        case .inProcess: return InProcessBackbone()
        }
    }
}
