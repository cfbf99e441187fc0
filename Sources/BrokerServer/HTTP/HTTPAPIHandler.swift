import CoreMetrics
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
    /// Takes back a later request that asks to upgrade (``HTTPPipeline``).
    private let upgradeRequested: (HTTPRequestHead) -> Void
    private var isFirstRequest = true
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyTooLarge = false
    private var started = NIODeadline.now()

    private var taskExecutor: EventLoopTaskExecutor?
    /// The connection's metric handles, made at their first use: building one looks it
    /// up in the registry under a lock, which a keep-alive publisher would otherwise pay
    /// twice per request.
    private var requestCounters: [APIRoute: [UInt: Counter]] = [:]
    private var durationTimers: [APIRoute: CoreMetrics.Timer] = [:]

    init(api: HTTPAPI, maximumBodyBytes: Int, upgradeRequested: @escaping (HTTPRequestHead) -> Void) {
        self.api = api
        self.maximumBodyBytes = maximumBodyBytes
        self.upgradeRequested = upgradeRequested
    }

    /// One per connection, made at its first request: a WebSocket upgrade never needs it.
    private func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        if let executor = self.taskExecutor { return executor }
        let executor = EventLoopTaskExecutor(eventLoop)
        self.taskExecutor = executor
        return executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.started = .now()
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
            defer { self.isFirstRequest = false }
            if !self.isFirstRequest, head.asksToUpgrade {
                // A proxy reusing a kept-alive upstream connection for a WebSocket handshake,
                // as nginx does. Handed over once this read has unwound: the handover takes
                // the handlers this read is passing through out of the pipeline.
                let upgradeRequested = self.upgradeRequested
                context.eventLoop.assumeIsolated().execute { upgradeRequested(head) }
                return
            }
            if self.bodyTooLarge {
                let error = APIError.payloadTooLarge("Request body is larger than \(self.maximumBodyBytes) bytes")
                var response = error.response
                response.route = APIRoute(RequestTarget(head.uri).pathSegments)
                self.respond(response, to: head, context: context)
                return
            }
            let request = APIRequest(
                method: head.method, target: RequestTarget(head.uri), body: self.body,
                origin: head.headers.first(name: "origin"), authorization: head.headers.first(name: "authorization")
            )
            self.body = []
            switch self.api.answer(request) {
            case .now(let response):
                self.respond(response, to: head, context: context)
            case .later(let work):
                let promise = context.eventLoop.makePromise(of: APIResponse.self)
                Task(executorPreference: self.executor(for: context.eventLoop)) { promise.succeed(await work()) }
                promise.futureResult.assumeIsolated().whenSuccess { response in
                    self.respond(response, to: head, context: context)
                }
            }
        }
    }

    private func respond(_ response: APIResponse, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        self.recordMetrics(response)
        var body = context.channel.allocator.buffer(capacity: 64)
        var headers = HTTPHeaders()
        switch response.body {
        case .json(let json):
            body.writeBytes(Array(json.serialized.utf8))
            headers.add(name: "Content-Type", value: "application/json")
        case .text(let text, let contentType):
            body.writeString(text)
            headers.add(name: "Content-Type", value: contentType)
        }
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        // A request that asks to upgrade stops the decoder (what follows an upgrade is
        // another protocol's bytes): answered instead, it leaves nothing more to read.
        let keepAlive = request.isKeepAlive && !request.asksToUpgrade
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

extension HTTPAPIHandler {
    /// `switchboard_http_requests_total{route,status}` and the latency histogram.
    private func recordMetrics(_ response: APIResponse) {
        let route = response.route
        let status = response.status.code
        let requests: Counter
        if let counter = self.requestCounters[route]?[status] {
            requests = counter
        } else {
            requests = Counter(
                label: "switchboard_http_requests_total",
                dimensions: [("route", route.rawValue), ("status", String(status))]
            )
            self.requestCounters[route, default: [:]][status] = requests
        }
        requests.increment()
        let duration: CoreMetrics.Timer
        if let timer = self.durationTimers[route] {
            duration = timer
        } else {
            duration = CoreMetrics.Timer(label: "switchboard_http_request_duration_seconds", dimensions: [("route", route.rawValue)])
            self.durationTimers[route] = duration
        }
        duration.recordNanoseconds((NIODeadline.now() - self.started).nanoseconds)
    }
}

extension HTTPRequestHead {
    /// What the HTTP decoder (llhttp) takes for an upgrade, after which it parses nothing
    /// more: `Connection: upgrade` with an `Upgrade` header, or `CONNECT`.
    fileprivate var asksToUpgrade: Bool {
        if self.method == .CONNECT { return true }
        return self.headers.contains(name: "upgrade")
            && self.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }
}

@available(*, unavailable)
extension HTTPAPIHandler: Sendable {}
