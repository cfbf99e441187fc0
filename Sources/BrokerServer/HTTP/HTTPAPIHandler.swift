import NIOCore
import NIOHTTP1
import PusherProtocol

/// Reads HTTP API requests off a connection and writes ``HTTPAPI``'s answers.
///
/// The body is bounded while it arrives: once it passes `maximumBodyBytes` the rest is
/// discarded and the answer is 413, so a client cannot make the node buffer an
/// arbitrarily large upload. `HTTPServerPipelineHandler` in front of it keeps one
/// request in flight per connection, which keeps keep-alive responses in order.
final class HTTPAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: HTTPAPI
    private let maximumBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyTooLarge = false

    init(api: HTTPAPI, maximumBodyBytes: Int) {
        self.api = api
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
            let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            self.bodyTooLarge = declared > self.maximumBodyBytes
        case .body(var chunk):
            guard !self.bodyTooLarge else { return }
            if self.body.count + chunk.readableBytes > self.maximumBodyBytes {
                self.bodyTooLarge = true
                self.body = []
            } else {
                self.body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            if self.bodyTooLarge {
                let error = APIError.payloadTooLarge("Request body is larger than \(self.maximumBodyBytes) bytes")
                self.respond(error.response, to: head, context: context)
                return
            }
            let request = APIRequest(
                method: head.method, target: RequestTarget(head.uri), body: self.body,
                origin: head.headers.first(name: "origin")
            )
            self.body = []
            let api = self.api
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            promise.completeWithTask { await api.handle(request) }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.respond(response, to: head, context: context)
            }
        }
    }

    private func respond(_ response: APIResponse, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: 64)
        body.writeBytes(Array(response.body.serialized.utf8))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension HTTPAPIHandler: Sendable {}
