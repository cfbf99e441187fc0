import ArgumentParser
import Backbone
import BrokerConfig
import BrokerCore
import BrokerServer
import HostCPU
import Logging
import Metrics
import NATSBackbone
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `switchboard serve`: runs one node until SIGTERM or SIGINT.
///
/// Services start in list order and stop in reverse: the webhook dispatcher first up and
/// last down (so the drain's channel_vacated events still go out), then the broker (and
/// with it the backbone), the listener last up and first down.
struct ServeCommand: AsyncParsableCommand {
    static let defaultConfigPath = "Config/switchboard.yaml"

    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run a Switchboard node.")

    @Option(name: .long, help: "The YAML config file.")
    var config: String = Self.defaultConfigPath

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "text (for people) or json (one object per line, for log pipelines).")
    var logFormat: String = "text"

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard ["text", "json"].contains(self.logFormat) else {
            throw ValidationError("--log-format must be text or json")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        let json = self.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchboard")
        // Before the broker exists: apps create their metric handles when they load.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(Self.makeMetricsFactory(registry))
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
                "version": "\(Switchboard.version)", "config": "\(self.config)",
                "settings": "\(configuration.summary.joined(separator: "; "))",
            ]
        )

        let eventLoopGroup = MultiThreadedEventLoopGroup(
            numberOfThreads: configuration.server.eventLoops ?? CPUAffinity.allowedCPUCount
        )
        let apps = AppRegistry(configuration: configuration)
        let webhooks = configuration.apps.contains { !$0.webhooks.isEmpty }
            ? WebhookDispatcher(apps: apps.all, logger: logger) : nil
        let broker = Broker(
            configuration: configuration,
            eventLoops: Array(eventLoopGroup.makeIterator()),
            backbone: Self.makeBackbone(configuration.backbone, logger: logger),
            apps: apps,
            eventSink: webhooks,
            logger: logger
        )
        let server = try Server(
            configuration: configuration, broker: broker, eventLoopGroup: eventLoopGroup, logger: logger,
            metrics: MetricsEndpoint(registry: registry, token: configuration.server.metricsToken)
        ) { address in
            // Tests and scripts read the bound port (config port 0) from this line.
            printToStandardOutput(
                "switchboard listening on \(configuration.server.host):\(address.port ?? configuration.server.port)"
            )
        }
        var services: [any Service] = webhooks.map { [$0] } ?? []
        services += [broker, server, CertificateReloadService(store: server.tls, logger: logger)]
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

    /// Prometheus buckets: connection durations span seconds to days, request latencies
    /// milliseconds to seconds.
    private static func makeMetricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["switchboard_connection_duration_seconds"] = [
            .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800), .seconds(3600), .seconds(14_400),
            .seconds(86_400),
        ]
        factory.durationHistogramBuckets["switchboard_http_request_duration_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000),
        ]
        return factory
    }

    private static func makeBackbone(_ configuration: BackboneConfiguration, logger: Logger) -> any Backbone {
        switch configuration.kind {
        case .inProcess: return InProcessBackbone()
        case .nats: return NATSBackbone(configuration: configuration.nats, nodeID: configuration.nodeID, logger: logger)
        }
    }
}
