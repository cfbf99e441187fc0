import BrokerConfig
import CNATS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

extension NATSClient {
    /// Reconnect delays: from 250 ms, doubling, up to 5 s, each with up to 1 s of
    /// jitter so a restarted NATS server is not hit by every node at the same instant.
    static let reconnectWait: Int64 = 250
    static let reconnectJitter: Int64 = 1_000
    static let maximumReconnectWait: Int64 = 5_000

    /// Builds the libnats options for `configuration`. The caller owns the result.
    static func makeOptions(_ configuration: NATSConfiguration, name: String) throws(NATSError) -> OpaquePointer {
        var created: OpaquePointer?
        try NATSError.check(natsOptions_Create(&created), "create options")
        guard let options = created else { throw NATSError("create options", NATS_NO_MEMORY) }
        do {
            try self.configure(options, configuration, name: name)
        } catch {
            natsOptions_Destroy(options)
            throw error
        }
        return options
    }

    private static func configure(_ options: OpaquePointer, _ configuration: NATSConfiguration, name: String) throws(NATSError) {
        var urls = configuration.urls.map { strdup($0) }
        defer { urls.forEach { free($0) } }
        try urls.withUnsafeMutableBufferPointer { buffer throws(NATSError) in
            let servers = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
            try NATSError.check(natsOptions_SetServers(options, servers, Int32(buffer.count)), "servers")
        }
        try NATSError.check(natsOptions_SetName(options, name), "name")
        // Own publishes are delivered in process; echo would deliver them twice.
        try NATSError.check(natsOptions_SetNoEcho(options, true), "no echo")
        try NATSError.check(natsOptions_SetMaxReconnect(options, -1), "reconnect forever")
        try NATSError.check(natsOptions_SetCustomReconnectDelay(options, self.reconnectDelay, nil), "reconnect backoff")
        try NATSError.check(natsOptions_SetMaxPendingMsgs(options, NATSSubscription.pendingMessages), "pending limit")
        // One delivery pool for every channel subscription instead of a thread each;
        // libnats still delivers each subscription's messages in order.
        try NATSError.check(natsOptions_UseGlobalMessageDelivery(options, true), "global message delivery")
        // libnats' flusher thread otherwise waits a millisecond for more data before it
        // writes, which would double the latency of a cross-node event; one write per
        // publish is cheap next to the fan-out it starts.
        try NATSError.check(natsOptions_SetSendAsap(options, true), "send asap")
        // Requests fail at once while disconnected instead of waiting for the timeout.
        try NATSError.check(natsOptions_SetFailRequestsOnDisconnect(options, true), "fail requests on disconnect")
        switch configuration.authentication {
        case nil:
            break
        case .token(let token):
            try NATSError.check(natsOptions_SetToken(options, token), "token")
        case .userPassword(let user, let password):
            try NATSError.check(natsOptions_SetUserInfo(options, user, password), "user")
        case .credentialsFile(let path):
            try NATSError.check(natsOptions_SetUserCredentialsFromFiles(options, path, nil), "credentials_file")
        }
        if let tls = configuration.tls {
            try NATSError.check(natsOptions_SetSecure(options, true), "tls")
            if let ca = tls.caFile {
                try NATSError.check(natsOptions_LoadCATrustedCertificates(options, ca), "tls.ca_file")
            }
            if let certificate = tls.certificateFile, let key = tls.keyFile {
                try NATSError.check(natsOptions_LoadCertificatesChain(options, certificate, key), "tls.cert_file")
            }
        }
    }

    /// Exponential backoff capped at ``maximumReconnectWait``, plus random jitter.
    private static let reconnectDelay: natsCustomReconnectDelayHandler = { _, attempts, _ in
        let exponent = min(Int64(max(attempts, 1)) - 1, 5)
        let base = min(reconnectWait << exponent, maximumReconnectWait)
        return base + Int64.random(in: 0...reconnectJitter)
    }
}
