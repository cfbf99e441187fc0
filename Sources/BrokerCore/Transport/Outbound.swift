public import PusherProtocol

/// The socket side of a ``Connection``, as BrokerCore sees it.
///
/// BrokerCore never touches NIO channels; the server gives each connection an
/// `Outbound` and the core only ever writes ready frames to it. Contract:
/// - Every method is called on the connection's event loop (the shard's executor);
///   implementations may assert it.
/// - ``write(_:)`` queues, ``flush()`` hands what was queued to the kernel. Rooms write a
///   frame to each subscriber and leave the flush to the shard's ``FlushQueue``, which
///   flushes once per batch.
/// - ``close(code:reason:)`` sends the close frame after everything already queued, then
///   closes the socket; later writes are dropped. The connection learns the socket is gone
///   through ``Connection/closed()``, which the transport calls exactly once.
public protocol Outbound: AnyObject, Sendable {
    func write(_ frame: OutboundFrame)
    func flush()
    func close(code: PusherCode, reason: String)
    /// Kept by the shard's flush queue: set while a flush of this outbound is queued, so
    /// a socket subscribed to many rooms is flushed once per batch. Implementations only
    /// store it.
    var isFlushPending: Bool { get set }
}

extension Outbound {
    func send(_ event: ServerEvent) {
        self.write(OutboundFrame(event: event))
        self.flush()
    }
}
