import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client end of a benchmark WebSocket: the RFC 6455 handshake and framing in one
/// handler, below ``SubscriberHandler``.
///
/// NIO's client upgrader runs an HTTP encoder, an HTTP decoder, an upgrade handler and
/// then a frame decoder and encoder in `ByteToMessageHandler`s; per connect and per
/// frame that cost the generator more CPU than the server spent, so the generator, not
/// the broker, set the measured connect rate and maximum fan-out. This handler writes
/// the request as bytes, checks the `101` and the accept key, and cuts the byte stream
/// into frames itself.
final class WebSocketClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    /// RFC 6455 §1.3's sample key and its accept value: every connection may send the
    /// same key, and checking the answer needs no SHA-1 in the generator.
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    private static let accept = Array("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".utf8)
    private static let endOfHead = Array("\r\n\r\n".utf8)

    private let request: String
    private let maximumFrameBytes: Int
    private var isUpgraded = false
    /// Bytes received and not yet consumed: the response head, or a frame's beginning.
    private var input: ByteBuffer?

    init(host: String, path: String, maximumFrameBytes: Int) {
        self.request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Self.key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        self.maximumFrameBytes = maximumFrameBytes
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: self.request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        if var input = self.input {
            self.input = nil
            input.writeBuffer(&bytes)
            bytes = input
        }
        do {
            if !self.isUpgraded {
                guard try self.readResponseHead(from: &bytes) else {
                    self.input = bytes
                    return
                }
                self.isUpgraded = true
            }
            while let frame = try self.nextFrame(from: &bytes) {
                context.fireChannelRead(self.wrapInboundOut(frame))
            }
        } catch {
            context.fireErrorCaught(error)
            return
        }
        if bytes.readableBytes > 0 { self.input = bytes }
    }

    /// Client frames are masked (RFC 6455 §5.3), with the frame's key or a fresh one.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = self.unwrapOutboundIn(data)
        let key = frame.maskKey ?? .random()
        var payload = frame.data
        var buffer = context.channel.allocator.buffer(capacity: payload.readableBytes + 14)
        buffer.writeInteger((frame.fin ? 0x80 : 0) | UInt8(webSocketOpcode: frame.opcode))
        switch payload.readableBytes {
        case 0..<126:
            buffer.writeInteger(0x80 | UInt8(payload.readableBytes))
        case 126...Int(UInt16.max):
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(payload.readableBytes))
        default:
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(payload.readableBytes))
        }
        buffer.writeBytes(key)
        payload.webSocketMask(key)
        buffer.writeBuffer(&payload)
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    /// - Returns: whether the whole head has arrived; it is then consumed from `bytes`.
    /// - Throws: ``UpgradeRefusedError`` for any answer but a `101` with the right accept.
    private func readResponseHead(from bytes: inout ByteBuffer) throws -> Bool {
        let view = bytes.readableBytesView
        guard let end = view.firstRange(of: Self.endOfHead) else { return false }
        let head = view[view.startIndex..<end.upperBound]
        let statusCode = Int(String(decoding: head.dropFirst("HTTP/1.1 ".count).prefix(3), as: UTF8.self)) ?? 0
        guard statusCode == 101, head.firstRange(of: Self.accept) != nil else {
            throw UpgradeRefusedError(status: HTTPResponseStatus(statusCode: statusCode))
        }
        bytes.moveReaderIndex(to: end.upperBound)
        return true
    }

    /// The next whole frame, or `nil` (and `bytes` untouched) when it has not all arrived.
    private func nextFrame(from bytes: inout ByteBuffer) throws -> WebSocketFrame? {
        let start = bytes.readerIndex
        guard let first = bytes.readInteger(as: UInt8.self), let second = bytes.readInteger(as: UInt8.self) else {
            bytes.moveReaderIndex(to: start)
            return nil
        }
        var length = Int(second & 0x7F)
        if length >= 126 {
            let extended = length == 126 ? bytes.readInteger(as: UInt16.self).map(Int.init)
                : bytes.readInteger(as: UInt64.self).map { Int(truncatingIfNeeded: $0) }
            guard let extended else {
                bytes.moveReaderIndex(to: start)
                return nil
            }
            length = extended
        }
        guard (0...self.maximumFrameBytes).contains(length) else { throw NIOWebSocketError.invalidFrameLength }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard let key = bytes.readBytes(length: 4) else {
                bytes.moveReaderIndex(to: start)
                return nil
            }
            maskKey = WebSocketMaskingKey(key)
        }
        guard var data = bytes.readSlice(length: length) else {
            bytes.moveReaderIndex(to: start)
            return nil
        }
        if let maskKey { data.webSocketUnmask(maskKey) }
        return WebSocketFrame(
            fin: first & 0x80 != 0,
            opcode: WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!,
            data: data
        )
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
