public import NIOCore
public import NIOWebSocket

/// Cuts the bytes a socket delivers into RFC 6455 frames (§5.2), inside the socket's
/// own handler: the server's ``PusherSocketHandler`` and the load generator's
/// subscribers both read their frames with it.
///
/// NIO's `WebSocketFrameDecoder` runs in a `ByteToMessageHandler`: a handler, a
/// pipeline context, two buffer queues and the last read's buffer, kept for every
/// socket, about 600 bytes of an idle connection's 4 KiB (BENCHMARKS.md). This reader
/// keeps nothing between reads but the bytes of a frame that has not fully arrived,
/// and lets go of the read buffer as soon as its frames are handed on, so NIO reuses it
/// for the next read.
public struct WebSocketFrameReader {
    public enum Failure: Error, Equatable {
        /// A frame announced more application data than the payload limit: 1009.
        case frameTooLarge
        /// RFC 6455 forbids the frame's header (reserved bits set with no extension
        /// negotiated, a control frame longer than 125 bytes or fragmented, a length with
        /// its top bit set): 1002.
        case protocolError(String)
    }

    private let maximumPayloadBytes: Int
    /// The start of a frame whose remaining bytes have not arrived yet.
    private var partial: ByteBuffer?

    public init(maximumPayloadBytes: Int) {
        self.maximumPayloadBytes = maximumPayloadBytes
    }

    /// Calls `body` with each complete frame in `bytes`, in order, and keeps the tail of
    /// an incomplete one for the next read. A frame's data is a slice of the read buffer:
    /// `body` copies what it keeps. `body` returns `false` to stop reading (the socket is
    /// closing); the rest of the input is then dropped.
    public mutating func read(
        _ bytes: ByteBuffer,
        _ body: (WebSocketFrame) -> Bool
    ) throws(Failure) {
        var input: ByteBuffer
        if var partial = self.partial {
            var bytes = bytes
            partial.writeBuffer(&bytes)
            input = partial
        } else {
            input = bytes
        }
        self.partial = nil
        while let frame = try Self.nextFrame(from: &input, maximumPayloadBytes: self.maximumPayloadBytes) {
            guard body(frame) else { return }
        }
        if input.readableBytes > 0 {
            self.partial = input
        }
    }

    /// The next whole frame, or `nil` (and `input` untouched) when it has not all arrived.
    private static func nextFrame(
        from input: inout ByteBuffer,
        maximumPayloadBytes: Int
    ) throws(Failure) -> WebSocketFrame? {
        let start = input.readerIndex
        guard let first = input.readInteger(as: UInt8.self), let second = input.readInteger(as: UInt8.self) else {
            input.moveReaderIndex(to: start)
            return nil
        }
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set without an extension") }
        let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!
        let fin = first & 0x80 != 0
        let isControl = first & 0x08 != 0
        var length = Int(second & 0x7F)
        if isControl {
            guard length <= 125 else { throw .protocolError("control frame longer than 125 bytes") }
            guard fin else { throw .protocolError("fragmented control frame") }
        }
        switch length {
        case 126:
            guard let extended = input.readInteger(as: UInt16.self) else {
                input.moveReaderIndex(to: start)
                return nil
            }
            length = Int(extended)
        case 127:
            guard let extended = input.readInteger(as: UInt64.self) else {
                input.moveReaderIndex(to: start)
                return nil
            }
            guard extended <= UInt64(Int.max) else { throw .protocolError("length with its top bit set") }
            length = Int(extended)
        default:
            break
        }
        guard length <= maximumPayloadBytes else { throw .frameTooLarge }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard input.readableBytes >= 4 else {
                input.moveReaderIndex(to: start)
                return nil
            }
            maskKey = WebSocketMaskingKey(input.readableBytesView.prefix(4))
            input.moveReaderIndex(forwardBy: 4)
        }
        guard let data = input.readSlice(length: length) else {
            input.moveReaderIndex(to: start)
            return nil
        }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: maskKey, data: data)
    }
}
