import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to the HTTP API with at most one request in
/// flight; the ``Publisher`` decides what to send and when.
///
/// One request per connection keeps the accounting exact (every response belongs to the
/// last request) and is how the Pusher server SDKs use a connection; throughput comes
/// from several connections instead of pipelining.
final class PublishConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Called on the connection's loop with the status of each complete response.
    var onResponse: (HTTPResponseStatus) -> Void = { _ in }
    /// Called once when the connection closes.
    var onClose: () -> Void = {}

    private var context: ChannelHandlerContext?
    private var status: HTTPResponseStatus = .ok

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func send(head: HTTPRequestHead, body: ByteBuffer) {
        guard let context = self.context else { return }
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func close() {
        self.context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = head.status
        case .body:
            break
        case .end:
            self.onResponse(self.status)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PublishConnectionHandler: Sendable {}
