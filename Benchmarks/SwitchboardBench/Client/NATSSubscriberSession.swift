import NIOCore
import NIOWebSocket

/// A subscriber's side of the NATS text protocol over nats-server's WebSocket listener:
/// on `INFO`, send `CONNECT`, `SUB` and `PING`; the first `PONG` confirms the
/// subscription (nats-server answers in order, so the `SUB` is in place by then).
///
/// nats-server cuts its output into WebSocket frames by size, not by message, so a frame
/// may hold many `MSG`s and a `MSG` may span frames: bytes after the last complete
/// operation wait in ``pending`` for the next frame. A frame that ends on a boundary,
/// the usual case, is parsed where it lies, without a copy.
struct NATSSubscriberSession: SubscriberSession {
    static let outboundOpcode = WebSocketOpcode.binary

    static func upgradePath(appKey: String) -> String { "/" }

    private let handshake: String
    private var isConnected = false
    private var isSubscribed = false
    private var pending = ByteBuffer()

    init(channelName: String) {
        // No echo and no `+OK` per operation: the lightest session nats-server offers.
        self.handshake = #"CONNECT {"verbose":false,"pedantic":false,"echo":false,"protocol":1}"# + "\r\n"
            + "SUB \(channelName) 1\r\nPING\r\n"
    }

    mutating func receive(_ payload: ByteBuffer, _ report: (SubscriberSignal) -> Void) {
        if self.pending.readableBytes == 0 {
            var payload = payload
            let consumed = payload.withUnsafeReadableBytes { self.parse($0, report) }
            payload.moveReaderIndex(forwardBy: consumed)
            if payload.readableBytes > 0 { self.pending.writeBuffer(&payload) }
        } else {
            var payload = payload
            var pending = self.pending
            self.pending = ByteBuffer()
            pending.writeBuffer(&payload)
            let consumed = pending.withUnsafeReadableBytes { self.parse($0, report) }
            pending.moveReaderIndex(forwardBy: consumed)
            pending.discardReadBytes()
            self.pending = pending
        }
    }

    /// Reports every complete operation in `bytes`.
    /// - Returns: the bytes consumed; the rest is an incomplete operation.
    private mutating func parse(_ bytes: UnsafeRawBufferPointer, _ report: (SubscriberSignal) -> Void) -> Int {
        var start = 0
        while let lineFeed = Self.index(of: UInt8(ascii: "\n"), in: bytes, from: start) {
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<lineFeed])
            var next = lineFeed + 1
            switch line.first {
            case UInt8(ascii: "M"):
                // `MSG <subject> <sid> [reply-to] <#bytes>\r`, then the payload and `\r\n`.
                let length = Self.trailingNumber(in: line)
                guard next + length + 2 <= bytes.count else { return start }
                let message = UnsafeRawBufferPointer(rebasing: bytes[next..<(next + length)])
                if let sentAt = EventData.timestamp(in: message, escaped: false) {
                    report(.delivered(sentAt: sentAt))
                }
                next += length + 2
            case UInt8(ascii: "I") where !self.isConnected:
                self.isConnected = true
                report(.send(self.handshake))
            case UInt8(ascii: "P") where line.count > 1 && line[1] == UInt8(ascii: "I"):
                report(.send("PONG\r\n"))
            case UInt8(ascii: "P") where !self.isSubscribed:
                self.isSubscribed = true
                report(.subscribed)
            case UInt8(ascii: "-"):
                report(.error)
            default:
                break
            }
            start = next
        }
        return start
    }

    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// The decimal number that ends `line` (before its `\r`): a `MSG`'s payload length.
    private static func trailingNumber(in line: UnsafeRawBufferPointer) -> Int {
        var end = line.count
        while end > 0, line[end - 1] < UInt8(ascii: "0") || line[end - 1] > UInt8(ascii: "9") { end -= 1 }
        var start = end
        while start > 0, line[start - 1] >= UInt8(ascii: "0"), line[start - 1] <= UInt8(ascii: "9") { start -= 1 }
        var value = 0
        for index in start..<end { value = value * 10 + Int(line[index] - UInt8(ascii: "0")) }
        return value
    }
}
