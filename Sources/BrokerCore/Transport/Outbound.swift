public import PusherProtocol

/// The socket side of a ``Connection``, as BrokerCore sees it.
///
/// BrokerCore never touches NIO channels; the server gives each connection an
/// `Outbound` and the core only ever writes ready frames to it. Contract:
/// - Every method is called on the connection's event loop (the shard's executor);
///   implementations may assert it.
/// - ``write(_:)`` queues, ``flush()`` hands what was queued to the kernel. Rooms write a
///   frame to each subscriber and flush once per batch.
/// - ``close(code:reason:)`` sends the close frame after everything already queued, then
///   closes the socket; later writes are dropped. The connection learns the socket is gone
///   through ``Connection/closed()``, which the transport calls exactly once.
public protocol Outbound: AnyObject, Sendable {
    func write(_ frame: OutboundFrame)
    func flush()
    func close(code: PusherCode, reason: String)
}

extension Outbound {
    func send(_ event: ServerEvent) {
        self.write(OutboundFrame(event: event))
        self.flush()
    }
}
