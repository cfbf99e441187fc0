import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to the HTTP API with at most one request in
/// flight, as the Pusher server SDKs use a connection; throughput comes from several
/// connections instead of pipelining.
final class PublishConnectionHandler: PublishChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    var onResponse: (HTTPResponseStatus) -> Void = { _ in }
    var onClose: () -> Void = {}

    private let requestBuilder: PublishRequestBuilder
    var context: ChannelHandlerContext?
    private var status: HTTPResponseStatus = .ok

    init(requestBuilder: PublishRequestBuilder) {
        self.requestBuilder = requestBuilder
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
}

@available(*, unavailable)
extension PublishConnectionHandler: Sendable {}
