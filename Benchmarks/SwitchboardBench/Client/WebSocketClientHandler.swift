import NIOCore
import NIOHTTP1
import NIOWebSocket
import WebSocketFraming

/// The client end of a benchmark WebSocket: the RFC 6455 handshake and framing in one
/// handler, below ``SubscriberHandler``.
///
/// NIO's client upgrader runs an HTTP encoder, an HTTP decoder, an upgrade handler and
/// then a frame decoder and encoder in `ByteToMessageHandler`s; per connect and per
/// frame that cost the generator more CPU than the server spent, so the generator, not
/// the broker, set the measured connect rate and maximum fan-out. This handler writes
/// the request as bytes, checks the `101` and the accept key, and cuts the byte stream
/// into frames with the server's own ``WebSocketFrameReader``.
final class WebSocketClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    /// RFC 6455 §1.3's sample key and its accept value: every connection may send the
    /// same key, and checking the answer needs no SHA-1 in the generator.
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    private static let accept = Array("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".utf8)
    private static let switchingProtocols = Array("HTTP/1.1 101 ".utf8)

    private let request: String
    private var isUpgraded = false
    /// The response head received so far, while it is incomplete.
    private var head: ByteBuffer?
    private var headBoundary = HTTPHeadBoundary()
    private var reader: WebSocketFrameReader

    init(host: String, path: String, maximumFrameBytes: Int) {
        self.request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Self.key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        self.reader = WebSocketFrameReader(maximumPayloadBytes: maximumFrameBytes)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: self.request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        do {
            if !self.isUpgraded {
                if var head = self.head {
                    self.head = nil
                    head.writeBuffer(&bytes)
                    bytes = head
                }
                guard try self.readResponseHead(from: &bytes) else {
                    self.head = bytes
                    return
                }
                self.isUpgraded = true
            }
            try self.reader.read(bytes) { frame in
                context.fireChannelRead(self.wrapInboundOut(frame))
                return true
            }
        } catch {
            context.fireErrorCaught(error)
        }
    }

    /// Client frames are masked (RFC 6455 §5.3), with the frame's key or a fresh one.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = self.unwrapOutboundIn(data)
        let key = frame.maskKey ?? .random()
        var payload = frame.data
        var buffer = context.channel.allocator.buffer(capacity: payload.readableBytes + WebSocketFrameHeader.maximumLength)
        WebSocketFrameHeader.write(
            fin: frame.fin, opcode: frame.opcode, payloadLength: payload.readableBytes, maskingKey: key, into: &buffer
        )
        payload.webSocketMask(key)
        buffer.writeBuffer(&payload)
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    /// - Returns: whether the whole head has arrived; it is then consumed from `bytes`.
    /// - Throws: ``UpgradeRefusedError`` for any answer but a `101` with the right accept.
    private func readResponseHead(from bytes: inout ByteBuffer) throws -> Bool {
        // Byte comparisons: the generic `firstRange(of:)` cost the generator a sixth of its
        // time per connect.
        let head = bytes.withUnsafeReadableBytes { bytes -> (length: Int, accepted: Bool, status: Int)? in
            guard let length = self.headBoundary.headLength(in: bytes) else { return nil }
            let head = UnsafeRawBufferPointer(rebasing: bytes[..<length])
            let accepted = head.starts(with: Self.switchingProtocols) && Self.contains(Self.accept, in: head)
            let status = Int(String(decoding: head.dropFirst("HTTP/1.1 ".count).prefix(3), as: UTF8.self)) ?? 0
            return (length, accepted, status)
        }
        guard let head else { return false }
        guard head.accepted else {
            throw UpgradeRefusedError(status: HTTPResponseStatus(statusCode: head.status))
        }
        bytes.moveReaderIndex(forwardBy: head.length)
        return true
    }

    private static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            needle.indices.allSatisfy { haystack[start + $0] == needle[$0] }
        }
    }
}

@available(*, unavailable)
extension WebSocketClientHandler: Sendable {}

/// The server answered the WebSocket handshake with something other than a `101` that
/// accepts the key.
struct UpgradeRefusedError: Error, CustomStringConvertible {
    var status: HTTPResponseStatus
    var description: String { "WebSocket upgrade refused: HTTP \(self.status.code)" }
}
