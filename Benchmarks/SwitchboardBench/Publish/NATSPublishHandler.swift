import NIOCore
import NIOHTTP1

/// Publishes benchmark events to nats-server on a plain NATS client connection.
///
/// NATS has no per-message acknowledgement, so each request is a batch of `PUB`s
/// followed by a `PING`: nats-server handles a connection's input in order, so its
/// `PONG` means every `PUB` before it was routed to the subscribers, the closest
/// equivalent of the HTTP API's `200`. The connection's `INFO` is ignored; the
/// `CONNECT` turns off echo and per-operation `+OK`s, like the subscribers'.
final class NATSPublishHandler: PublishChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var onResponse: (HTTPResponseStatus) -> Void = { _ in }
    var onClose: () -> Void = {}

    private let dataBytes: Int
    var context: ChannelHandlerContext?
    /// An incomplete line of server output.
    private var partialLine = ByteBuffer()

    init(dataBytes: Int) {
        self.dataBytes = dataBytes
    }

    func channelActive(context: ChannelHandlerContext) {
        let connect = #"CONNECT {"verbose":false,"pedantic":false,"echo":false,"protocol":1}"# + "\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: connect)), promise: nil)
        context.fireChannelActive()
    }

    func publish(events: [(channel: String, sequence: Int)], sentAt: UInt64) {
        guard let context = self.context else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.count * (self.dataBytes + 48) + 6)
        var data: [UInt8] = []
        for event in events {
            data.removeAll(keepingCapacity: true)
            EventData.append(sentAt: sentAt, sequence: event.sequence, size: self.dataBytes, escaped: false, to: &data)
            bytes.append(contentsOf: "PUB \(event.channel) \(data.count)\r\n".utf8)
            bytes.append(contentsOf: data)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        bytes.append(contentsOf: "PING\r\n".utf8)
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = self.unwrapInboundIn(data)
        self.partialLine.writeBuffer(&input)
        while let lineFeed = self.partialLine.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = lineFeed - self.partialLine.readerIndex + 1
            guard let line = self.partialLine.readString(length: length) else { break }
            if line.hasPrefix("PONG") {
                self.onResponse(.ok)
            } else if line.hasPrefix("PING") {
                let pong = context.channel.allocator.buffer(string: "PONG\r\n")
                context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
            }
        }
        self.partialLine.discardReadBytes()
    }
}

@available(*, unavailable)
extension NATSPublishHandler: Sendable {}
