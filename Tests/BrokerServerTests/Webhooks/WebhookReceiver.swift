import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP server on 127.0.0.1 that records every request and answers from a
/// script, to test delivery over a real socket.
final class WebhookReceiver: Sendable {
    struct Request: Sendable {
        var headers: HTTPHeaders
        var body: String
    }

    private let channel: any Channel
    private let log: RequestLog

    /// - Parameter statuses: answers in order; once used up, every request gets 200.
    init(statuses: [HTTPResponseStatus]) async throws {
        let log = RequestLog(statuses: statuses)
        self.log = log
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    var url: String { "http://127.0.0.1:\(self.channel.localAddress!.port!)/webhook" }
    var requests: [Request] { self.log.requests }

    func close() async throws {
        try await self.channel.close()
    }
}

private final class RequestLog: Sendable {
    private let state: Mutex<(requests: [WebhookReceiver.Request], statuses: [HTTPResponseStatus])>

    init(statuses: [HTTPResponseStatus]) {
        self.state = Mutex(([], statuses))
    }

    var requests: [WebhookReceiver.Request] { self.state.withLock { $0.requests } }

    func record(_ request: WebhookReceiver.Request) -> HTTPResponseStatus {
        self.state.withLock { state in
            state.requests.append(request)
            return state.statuses.isEmpty ? .ok : state.statuses.removeFirst()
        }
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: RequestLog
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(log: RequestLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(let buffer):
            self.body += buffer.readableBytesView
        case .end:
            guard let head = self.head else { return }
            let status = self.log.record(.init(headers: head.headers, body: String(decoding: self.body, as: UTF8.self)))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

@available(*, unavailable)
extension RecordingHandler: Sendable {}
