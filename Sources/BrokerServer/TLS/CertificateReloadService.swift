public import Logging
public import ServiceLifecycle
import UnixSignals

/// Reloads the TLS certificate on SIGHUP, the signal certbot-style renewal hooks and
/// `systemctl reload` send, so a renewed certificate is served without a restart.
public struct CertificateReloadService: Service {
    private let store: TLSContextStore
    private let logger: Logger

    public init(store: TLSContextStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try self.store.reload()
                self.logger.info("TLS certificate reloaded")
            } catch {
                self.logger.error("TLS certificate reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }
}
