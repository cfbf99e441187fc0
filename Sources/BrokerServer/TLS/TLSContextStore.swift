public import BrokerConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The node's current TLS context, replaced in place when certificates are reloaded.
///
/// New connections take whatever context is current when they are accepted; open ones
/// keep the one they handshook with. A reload that fails (a half-written file during a
/// renewal) leaves the previous context in use, so a bad renewal never takes the
/// listener down.
public final class TLSContextStore: Sendable {
    private let configuration: ServerTLSConfiguration
    private let context: NIOLockedValueBox<NIOSSLContext>

    public init(configuration: ServerTLSConfiguration) throws {
        self.configuration = configuration
        self.context = NIOLockedValueBox(try Self.makeContext(configuration))
    }

    var current: NIOSSLContext { self.context.withLockedValue { $0 } }

    /// Re-reads the certificate chain and key from disk.
    public func reload() throws {
        let context = try Self.makeContext(self.configuration)
        self.context.withLockedValue { $0 = context }
    }

    private static func makeContext(_ configuration: ServerTLSConfiguration) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificateFile)
        let key = try NIOSSLPrivateKey(file: configuration.keyFile, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        tls.shutdownTimeout = Self.closeNotifyWait
        return try NIOSSLContext(configuration: tls)
    }

    /// How long a closing connection waits for the peer's `close_notify` after sending
    /// its own. TLS does not require the wait (RFC 8446 §6.1), and an idle keep-alive
    /// client, which reads nothing, never answers: NIO's default of 5 s made every
    /// shutdown with an HTTPS client attached 5 s longer than its drain.
    static let closeNotifyWait = TimeAmount.milliseconds(250)
}
