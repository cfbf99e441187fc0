public import NIOCore
public import NIOWebSocket

/// The bytes in front of a WebSocket frame's payload (RFC 6455 §5.2): FIN and the
/// opcode, the payload length in its shortest form, and the masking key that only
/// clients send. The server's frames and the load generator's are written with it.
public enum WebSocketFrameHeader {
    /// Two bytes, an eight-byte length and a four-byte masking key.
    public static let maximumLength = 14

    public static func write(
        fin: Bool = true,
        opcode: WebSocketOpcode,
        payloadLength: Int,
        maskingKey: WebSocketMaskingKey? = nil,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeInteger((fin ? 0x80 : 0) | UInt8(webSocketOpcode: opcode))
        let masked: UInt8 = maskingKey == nil ? 0 : 0x80
        switch payloadLength {
        case 0..<126:
            buffer.writeInteger(masked | UInt8(payloadLength))
        case 126...Int(UInt16.max):
            buffer.writeInteger(masked | 126)
            buffer.writeInteger(UInt16(payloadLength))
        default:
            buffer.writeInteger(masked | 127)
            buffer.writeInteger(UInt64(payloadLength))
        }
        if let maskingKey {
            buffer.writeBytes(maskingKey)
        }
    }
}
