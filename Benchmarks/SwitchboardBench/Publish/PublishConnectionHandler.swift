import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to the HTTP API with at most one request in
/// flight, as the Pusher server SDKs use a connection; throughput comes from several
/// connections instead of pipelining.
final class PublishConnectionHandler: ChannelInboundHandler, PublishConnection {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    var onResponse: (HTTPResponseStatus) -> Void = { _ in }
    var onClose: () -> Void = {}

    private let requestBuilder: PublishRequestBuilder
    private var context: ChannelHandlerContext?
    private var status: HTTPResponseStatus = .ok

    init(requestBuilder: PublishRequestBuilder) {
        self.requestBuilder = requestBuilder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func publish(events: [(channel: String, sequence: Int)], sentAt: UInt64) {
        guard let context = self.context else { return }
        let (head, body) = self.requestBuilder.makeRequest(
            events: events, sentAt: sentAt, allocator: context.channel.allocator
        )
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
