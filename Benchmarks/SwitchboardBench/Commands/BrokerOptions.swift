import ArgumentParser
import HostCPU

/// Where the broker is and which app to use; shared by every scenario.
struct BrokerOptions: ParsableArguments {
    @Option(help: "The broker under test: pusher (Switchboard) or nats (nats-server's WebSocket listener).")
    var target = BenchTarget.pusher

    @Option(help: "The broker's WebSocket URL; with --target pusher the HTTP API is served on the same port.")
    var url = "ws://127.0.0.1:6001"

    @Option(
        name: .customLong("publish-url"),
        help: """
            Where events are published. With --target pusher: another node's HTTP API (ws://HOST:PORT), \
            to measure delivery across a cluster (default: the --url node). With --target nats: the NATS \
            client listener (default: nats://127.0.0.1:4222).
            """
    )
    var publishURL: String?

    @Option(name: .customLong("app-id"), help: "App id, for HTTP API paths.")
    var appID = "1"

    @Option(help: "App key, for the WebSocket path and request signatures.")
    var key = "app-key"

    @Option(help: "App secret, to sign HTTP API requests.")
    var secret = "app-secret"

    @Option(
        name: .customLong("server-pid"),
        help: "The server's PID: sample its RSS and CPU time from /proc before and after."
    )
    var serverPID: Int32?

    @Option(help: "Generator event loop threads (default: the cores this process may run on).")
    var threads = CPUAffinity.allowedCPUCount

    func validate() throws {
        guard BrokerAddress(url: self.url) != nil else {
            throw ValidationError("--url must look like ws://HOST:PORT")
        }
        if let publishURL, BrokerAddress(url: publishURL) == nil {
            throw ValidationError("--publish-url must look like ws://HOST:PORT or nats://HOST:PORT")
        }
        guard self.threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    var address: BrokerAddress {
        guard let address = BrokerAddress(url: self.url) else { preconditionFailure("validated in validate()") }
        return address
    }

    /// Where events are published: an HTTP API (this node's unless told otherwise), or NATS.
    var publishAddress: BrokerAddress {
        let fallback = self.target == .nats ? "nats://127.0.0.1:4222" : self.url
        guard let address = BrokerAddress(url: self.publishURL ?? fallback) else { preconditionFailure("validated") }
        return address
    }
}

/// How load is offered in the publishing scenarios.
struct LoadOptions: ParsableArguments {
    @Option(help: "Seconds of publishing.")
    var duration = 10.0

    @Option(help: "Bytes of each event's data.")
    var size = 100

    @Option(help: "Events per HTTP request (1: /events, more: /batch_events). Default: 1, or 10 with --rate 0.")
    var batch: Int?

    @Option(help: "Keep-alive HTTP connections publishing in parallel.")
    var publishers = 4

    @Option(
        name: .customLong("max-lag"),
        help: "With --rate 0: events published but not yet delivered to every subscriber."
    )
    var maximumLag = 20

    func validate() throws {
        guard self.duration > 0 else { throw ValidationError("--duration must be positive") }
        guard self.size >= 32 else { throw ValidationError("--size must be at least 32 bytes") }
        guard (self.batch ?? 1) >= 1, (self.batch ?? 1) <= 10 else {
            throw ValidationError("--batch must be 1 to 10 (the server's max_batch_size)")
        }
        guard self.publishers > 0 else { throw ValidationError("--publishers must be positive") }
    }

    func batchSize(rate: Double) -> Int {
        self.batch ?? (rate == 0 ? 10 : 1)
    }
}
