import BrokerConfig
import BrokerCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import WebSocketFraming

/// The first handler of every connection: reads the first request head and either
/// completes a WebSocket upgrade itself or hands the connection, with every byte read so
/// far, to the HTTP API's pipeline (``HTTPPipeline``). It stays in front of that
/// pipeline, passing bytes through, and takes the connection back when a later request
/// on it asks to upgrade: proxies such as nginx send WebSocket handshakes over upstream
/// connections kept alive from earlier API requests.
///
/// Most connections a broker accepts are WebSockets, and NIO's upgrade path built an
/// HTTP pipeline of seven handlers for each, parsed the head with llhttp, then removed
/// six of them through a chain of futures: most of the server's CPU per connect
/// (BENCHMARKS.md). Here an upgrade costs one small parse, one handler added
/// (``PusherSocketHandler``) and this one removed, and the `101` goes out in the same
/// `write` as `pusher:connection_established`.
///
/// Only the success path is handled here. A request that is not a well-formed upgrade
/// (``WebSocketUpgradeRequest``), is not for `/app/{key}`, arrives while the node
/// drains or comes from an origin the app does not allow is replayed into the HTTP
/// pipeline, whose API answers it with the right status (400, 404, 503, 403), exactly
/// as for a request that never asked to upgrade.
final class WebSocketUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let broker: Broker
    private let trustedProxies: [IPAddressRange]
    private let http: HTTPPipeline
    /// When the first request head must have arrived by: `handshake_timeout_seconds`.
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    /// The bytes read so far, while the head is incomplete.
    private var received: ByteBuffer?
    /// The HTTP API's handlers while the connection serves the API; bytes pass through.
    private var httpHandlers: [any RemovableChannelHandler] = []
    private var boundary = HTTPHeadBoundary()

    private static let acceptGUID = Array("258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)

    init(broker: Broker, trustedProxies: [IPAddressRange], http: HTTPPipeline) {
        self.broker = broker
        self.trustedProxies = trustedProxies
        self.http = http
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.deadline = .now() + .seconds(Int64(self.http.limits.handshakeTimeoutSeconds))
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: self.deadline) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        // The API handler's take-back closure holds this handler: let the cycle go.
        self.httpHandlers = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.httpHandlers.isEmpty else {
            context.fireChannelRead(data)
            return
        }
        var bytes = self.unwrapInboundIn(data)
        if var received = self.received {
            self.received = nil
            received.writeBuffer(&bytes)
            bytes = received
        }
        let headLength = bytes.withUnsafeReadableBytes { self.boundary.headLength(in: $0) }
        guard let headLength, headLength <= self.http.limits.maxHTTPHeaderBytes else {
            if headLength != nil || bytes.readableBytes > self.http.limits.maxHTTPHeaderBytes {
                // A head over `max_http_header_bytes`: the HTTP decoder answers 400 and closes.
                self.handOver(bytes, context: context)
            } else {
                self.received = bytes
            }
            return
        }
        let request = bytes.withUnsafeReadableBytes { bytes in
            WebSocketUpgradeRequest(head: UnsafeRawBufferPointer(rebasing: bytes[..<headLength]))
        }
        guard let request, let path = PusherPath(request.target), self.accepts(request, path: path) else {
            self.handOver(bytes, context: context)
            return
        }
        bytes.moveReaderIndex(forwardBy: headLength)
        self.upgrade(request, path: path, leftOver: bytes, context: context)
    }

    /// A refusal is answered by the HTTP API, which names the reason.
    private func accepts(_ request: WebSocketUpgradeRequest, path: PusherPath) -> Bool {
        switch UpgradeRefusal(appKey: path.appKey, origin: request.origin, broker: self.broker) {
        case nil:
            return true
        case .draining:
            return false
        case .originNotAllowed(let app):
            app.metrics.refused(.origin)
            return false
        }
    }

    /// Answers `101` and leaves the socket to a ``PusherSocketHandler``. The response is
    /// written, not flushed: the socket handler's first flush (`connection_established`,
    /// or the close frame of a refusal) sends both.
    private func upgrade(
        _ request: WebSocketUpgradeRequest,
        path: PusherPath,
        leftOver: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        // Unknown keys are refused by the socket handler; until then the node's limits apply.
        let limits = self.broker.apps.app(key: path.appKey)?.limits ?? self.broker.limits
        let socket = PusherSocketHandler(
            broker: self.broker,
            appKey: path.appKey,
            protocolVersion: path.protocolVersion,
            clientAddress: ClientAddress.resolve(
                peer: context.channel.remoteAddress?.ipAddress,
                forwardedFor: request.forwardedFor,
                trusted: self.trustedProxies
            ),
            maximumMessageBytes: limits.maxPayloadBytes
        )
        do {
            // The write buffer's high water mark is the outbound budget: past it the
            // channel turns unwritable and the socket handler closes the slow consumer.
            try context.channel.syncOptions?.setOption(
                .writeBufferWaterMark,
                value: .init(low: limits.maxOutboundBufferBytes / 2, high: limits.maxOutboundBufferBytes)
            )
            let response = Self.switchingProtocols(key: request.key, allocator: context.channel.allocator)
            context.write(self.wrapOutboundOut(response), promise: nil)
            try context.pipeline.syncOperations.addHandler(socket)
        } catch {
            context.close(promise: nil)
            return
        }
        if leftOver.readableBytes > 0 {
            // Frames the client sent right behind its request.
            context.fireChannelRead(self.wrapInboundOut(leftOver))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Installs the HTTP API's handlers and replays what was read into them.
    private func handOver(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        do {
            self.httpHandlers = try self.http.install(in: context.pipeline.syncOperations, firstRequestBy: self.deadline) {
                self.takeBack($0, context: context)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(self.wrapInboundOut(bytes))
    }

    /// Reads `request`, a later request on an API connection that asks to upgrade, as if
    /// it were the connection's first: the HTTP handlers leave and the request is
    /// upgraded, or replayed into fresh ones to be answered.
    ///
    /// Bytes the client sent after the request are dropped with the decoder; RFC 6455
    /// §4.1 has it wait for the handshake's answer before sending any.
    private func takeBack(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        // The decoder leaves in a task of its own; the head is read once it has gone, or
        // it would be passed to the decoder.
        let removals = self.httpHandlers.reversed().map { handler in
            let removed = context.eventLoop.makePromise(of: Void.self)
            pipeline.removeHandler(handler, promise: removed)
            return removed.futureResult
        }
        self.httpHandlers = []
        EventLoopFuture.andAllComplete(removals, on: context.eventLoop).assumeIsolated().whenComplete { _ in
            guard context.channel.isActive else { return }
            self.deadline = .now() + .seconds(Int64(self.http.limits.handshakeTimeoutSeconds))
            self.boundary = HTTPHeadBoundary()
            var head = context.channel.allocator.buffer(capacity: 512)
            head.writeString("\(request.method.rawValue) \(request.uri) HTTP/\(request.version.major).\(request.version.minor)\r\n")
            for (name, value) in request.headers {
                head.writeString("\(name): \(value)\r\n")
            }
            head.writeString("\r\n")
            self.channelRead(context: context, data: self.wrapInboundOut(head))
        }
    }

    /// RFC 6455 §4.2.2: `Sec-WebSocket-Accept` is the Base64 SHA-1 of the key and the GUID.
    private static func switchingProtocols(key: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var hash = Insecure.SHA1()
        hash.update(data: Array(key.utf8))
        hash.update(data: Self.acceptGUID)
        let accept = Data(hash.finalize()).base64EncodedString()
        var response = allocator.buffer(capacity: 160)
        response.writeString(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
        )
        return response
    }
}

@available(*, unavailable)
extension WebSocketUpgradeHandler: Sendable {}
