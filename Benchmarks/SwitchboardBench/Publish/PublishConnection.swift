import NIOCore
import NIOHTTP1

/// One publishing connection with at most one request in flight; the ``Publisher``
/// decides what to send and when, the connection how to say it to its broker.
///
/// One request per connection keeps the accounting exact: every answer belongs to the
/// last request. All members are used on the connection's event loop only.
protocol PublishConnection: AnyObject {
    /// Called with the outcome of each request: the HTTP status, or `200` for a NATS
    /// batch that the server's `PONG` confirmed.
    var onResponse: (HTTPResponseStatus) -> Void { get set }
    /// Called once when the connection closes.
    var onClose: () -> Void { get set }

    /// Sends one request carrying these events, each stamped with `sentAt`.
    func publish(events: [(channel: String, sequence: Int)], sentAt: UInt64)

    func close()
}

/// A ``PublishConnection`` that is its channel's handler: the bookkeeping both publishing
/// handlers share (the context kept for writing, closing, reporting the close).
protocol PublishChannelHandler: PublishConnection, ChannelInboundHandler {
    /// Set while the handler is in a pipeline.
    var context: ChannelHandlerContext? { get set }
}

extension PublishChannelHandler {
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func close() {
        self.context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
