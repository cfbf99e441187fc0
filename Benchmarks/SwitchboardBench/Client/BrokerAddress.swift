import NIOCore

/// Where the broker listens, from `--url ws://HOST:PORT`. WebSockets and the HTTP API
/// share the port, as on Pusher Channels, so one address serves both clients.
struct BrokerAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Accepts `ws://host:port`, `http://host:port` and `nats://host:port` (a trailing path is ignored);
    /// `nil` for anything else. TLS is not supported: it would measure the TLS library.
    init?(url: String) {
        var rest = Substring(url)
        for scheme in ["ws://", "http://", "nats://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        guard !rest.contains("://") else { return nil }
        let authority = rest.prefix(while: { $0 != "/" })
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        self.host = String(authority[..<colon])
        self.port = port
        guard !self.host.isEmpty else { return nil }
    }

    /// The address to connect to; `host` is an IP address or a name the system resolves.
    var socketAddress: SocketAddress {
        get throws { try SocketAddress.makeAddressResolvingHost(self.host, port: self.port) }
    }

    var description: String { "\(self.host):\(self.port)" }
}
