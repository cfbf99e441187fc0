/// `backbone.nats:` — how a node reaches the NATS servers that join the cluster.
///
/// Authentication mirrors what libnats offers: a token, a user and password, or a
/// `.creds` file (JWT and NKey seed); at most one of them.
public struct NATSConfiguration: Sendable, Equatable {
    public enum Authentication: Sendable, Equatable {
        case token(String)
        case userPassword(user: String, password: String)
        case credentialsFile(String)
    }

    /// Servers of one NATS cluster, tried in random order; every node should list the same.
    public var urls: [String]
    public var authentication: Authentication?
    public var tls: NATSTLSConfiguration?
    /// A node that stops renewing its lease for this long is presumed dead and its
    /// presence members are removed, with `member_removed`, by the survivors.
    public var leaseTTLSeconds: Int
    /// How long a cluster-wide query waits for the other nodes' answers.
    public var requestTimeoutMilliseconds: Int

    public init(
        urls: [String] = ["nats://127.0.0.1:4222"],
        authentication: Authentication? = nil,
        tls: NATSTLSConfiguration? = nil,
        leaseTTLSeconds: Int = 15,
        requestTimeoutMilliseconds: Int = 500
    ) {
        self.urls = urls
        self.authentication = authentication
        self.tls = tls
        self.leaseTTLSeconds = leaseTTLSeconds
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
    }
}

/// `backbone.nats.tls:` — PEM files. A CA alone verifies the servers; a certificate
/// and key add client authentication.
public struct NATSTLSConfiguration: Sendable, Equatable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}
