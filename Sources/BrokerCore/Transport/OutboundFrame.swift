public import NIOCore
public import PusherProtocol
import NIOWebSocket
import WebSocketFraming

/// A complete server-to-client WebSocket frame: header and payload in one buffer.
///
/// A room writes the same frame to every subscriber. NIO's frame encoder only writes a
/// header in front of a payload it owns uniquely; a shared payload would cost a second
/// buffer and write per delivery. Building the frame once, whole, makes each delivery a
/// reference-count increment and one `write` (RFC 6455 §5.2; server frames are unmasked).
///
/// Consecutive broadcasts to one room travel as one buffer of several frames
/// (``append(_:)``, used by the shard): each subscriber then gets one reference to it,
/// not one copy per frame.
public struct OutboundFrame: Sendable {
    public private(set) var buffer: ByteBuffer

    public var byteCount: Int { self.buffer.readableBytes }
    /// The application data's length, without the frame headers: what the byte metrics
    /// count, in and out alike.
    public private(set) var payloadByteCount: Int
    /// How many frames the buffer holds: what the message metrics count.
    public private(set) var frameCount = 1

    /// The frame's application data, for the rare reader that must look inside.
    var payload: [UInt8] {
        var buffer = self.buffer
        guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return [] }
        let skip: Int
        switch second & 0x7F {
        case 126: skip = 4
        case 127: skip = 10
        default: skip = 2
        }
        buffer.moveReaderIndex(forwardBy: skip)
        return Array(buffer.readableBytesView)
    }

    /// A text frame around JSON text encoded once for every subscriber.
    public init(text payload: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        var buffer = allocator.buffer(capacity: payload.readableBytes + WebSocketFrameHeader.maximumLength)
        WebSocketFrameHeader.write(opcode: .text, payloadLength: payload.readableBytes, into: &buffer)
        var payload = payload
        self.payloadByteCount = payload.readableBytes
        buffer.writeBuffer(&payload)
        self.buffer = buffer
    }

    public init(event: ServerEvent, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        let payload = event.encoded
        var buffer = allocator.buffer(capacity: payload.count + WebSocketFrameHeader.maximumLength)
        WebSocketFrameHeader.write(opcode: .text, payloadLength: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        self.buffer = buffer
        self.payloadByteCount = payload.count
    }

    /// A close frame; the reason is cut to fit the 125-byte control frame limit, at a
    /// character boundary, since a reason that is not valid UTF-8 fails the connection
    /// in a browser instead of delivering the code (RFC 6455 §5.5.1).
    public static func close(code: UInt16, reason: String) -> OutboundFrame {
        var reasonBytes: [UInt8] = []
        for character in reason {
            let utf8 = Array(String(character).utf8)
            guard reasonBytes.count + utf8.count <= 123 else { break }
            reasonBytes += utf8
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 4 + reasonBytes.count)
        WebSocketFrameHeader.write(opcode: .connectionClose, payloadLength: 2 + reasonBytes.count, into: &buffer)
        buffer.writeInteger(code)
        buffer.writeBytes(reasonBytes)
        return OutboundFrame(buffer: buffer, payloadByteCount: 2 + reasonBytes.count)
    }

    /// The answer to an RFC 6455 ping, echoing its application data.
    public static func pong(echoing data: ByteBuffer) -> OutboundFrame {
        var data = data
        let length = data.readableBytes
        var buffer = ByteBufferAllocator().buffer(capacity: 2 + length)
        WebSocketFrameHeader.write(opcode: .pong, payloadLength: length, into: &buffer)
        buffer.writeBuffer(&data)
        return OutboundFrame(buffer: buffer, payloadByteCount: length)
    }

    /// Puts `next` behind this frame, into one buffer.
    mutating func append(_ next: OutboundFrame) {
        self.buffer.writeImmutableBuffer(next.buffer)
        self.payloadByteCount += next.payloadByteCount
        self.frameCount += next.frameCount
    }

    private init(buffer: ByteBuffer, payloadByteCount: Int) {
        self.buffer = buffer
        self.payloadByteCount = payloadByteCount
    }
}
