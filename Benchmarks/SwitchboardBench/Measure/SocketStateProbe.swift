/// Reads the server's side of one TCP connection from `/proc/net/tcp{,6}`.
///
/// The slow consumer never reads, so it cannot learn from its own socket when the server
/// gave up on it: the server's close frame and FIN sit behind a full receive window.
/// Server and generator share the machine, so the kernel's table shows the server's
/// socket leaving `ESTABLISHED` (to `FIN_WAIT1`, or gone after a reset) the moment the
/// server closes it.
struct SocketStateProbe: Sendable {
    /// The listener's port: the local port of the server's side.
    var serverPort: Int
    /// The client's port: the remote port of the server's side.
    var clientPort: Int

    struct Observation: Sendable {
        /// `ESTABLISHED`, `FIN_WAIT1`, ...
        var state: String
        /// Bytes the server's kernel holds for the client (`tx_queue`): data the server
        /// wrote that the client has not read, outside the server's own outbound budget.
        var sendQueueBytes: Int
    }

    /// The server-side socket, or `nil` if no such socket exists any more.
    func observe() -> Observation? {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = ProcessSample.read(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 4, Self.port(of: fields[1]) == self.serverPort,
                    Self.port(of: fields[2]) == self.clientPort
                else { continue }
                let queues = fields[4].split(separator: ":")
                return Observation(
                    state: Self.stateNames[String(fields[3])] ?? String(fields[3]),
                    sendQueueBytes: queues.first.flatMap { Int($0, radix: 16) } ?? 0
                )
            }
        }
        return nil
    }

    /// `0100007F:1771` → 6001.
    private static func port(of address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }

    /// `include/net/tcp_states.h`.
    private static let stateNames = [
        "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
        "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
    ]
}
