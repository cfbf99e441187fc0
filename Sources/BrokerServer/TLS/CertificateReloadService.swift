public import Logging
public import ServiceLifecycle
import UnixSignals

/// Handles SIGHUP, the signal certbot-style renewal hooks and `systemctl reload` send:
/// the TLS certificate is re-read so a renewed one is served without a restart.
///
/// Runs on every node, TLS or not: a SIGHUP nobody traps would end the process, and a
/// renewal hook shared by several services must not stop a plain-HTTP node.
public struct CertificateReloadService: Service, CustomStringConvertible {
    private let store: TLSContextStore?
    private let logger: Logger

    public var description: String { "CertificateReloadService(tls: \(self.store != nil ? "on" : "off"))" }

    public init(store: TLSContextStore?, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            guard let store = self.store else {
                self.logger.info("SIGHUP: no TLS certificate to reload")
                continue
            }
            do {
                try store.reload()
                self.logger.info("TLS certificate reloaded")
            } catch {
                self.logger.error("TLS certificate reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }
}
