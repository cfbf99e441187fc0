import BrokerConfig
import BrokerCore
import CoreMetrics
import NIOCore
import NIOWebSocket
import PusherProtocol
import WebSocketFraming

/// The WebSocket end of one Pusher connection: turns frames into calls on its
/// ``Connection`` actor and is that connection's ``Outbound``.
///
/// The only handler in the socket's pipeline after the upgrade: it cuts the socket's
/// bytes into frames itself (``WebSocketFrameReader``), and the frames it writes go
/// straight to the socket. It reassembles fragmented messages up to the payload limit,
/// answers RFC 6455 pings and close frames itself, and maps framing errors to close
/// codes (1009 too big, 1002 protocol error).
final class PusherSocketHandler: ChannelInboundHandler, Outbound {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let broker: Broker
    private let appKey: String
    private let protocolVersion: String?
    private let clientAddress: String?
    private let maximumMessageBytes: Int

    private var context: ChannelHandlerContext?
    private var connection: Connection?
    private var reader: WebSocketFrameReader
    /// The text of a message whose final fragment has not arrived yet.
    private var fragments: ByteBuffer?
    private var fragmentsAreText = false
    private var isClosing = false
    /// The code the socket ends with, for the close metrics: the one sent or echoed, or
    /// 1006 when the peer just went away.
    private var closeCode: UInt16 = 1006
    /// Frames written since the last flush, concatenated: handed to the channel as one
    /// buffer by ``flush()``.
    ///
    /// Going through the pipeline costs every `context.write` several retains, an `NIOAny`
    /// box and a pending-writes entry, more than copying a 100-byte frame. A lone frame
    /// is kept as the room's shared buffer, so an isolated event costs no copy; the second
    /// frame before a flush makes ByteBuffer copy the first into storage of its own (copy
    /// on write), and later frames append to it. Bounded by one flush batch.
    private var unflushed: ByteBuffer?
    var isFlushPending = false

    init(broker: Broker, appKey: String, protocolVersion: String?, clientAddress: String?, maximumMessageBytes: Int) {
        self.broker = broker
        self.appKey = appKey
        self.protocolVersion = protocolVersion
        self.clientAddress = clientAddress
        self.maximumMessageBytes = maximumMessageBytes
        self.reader = WebSocketFrameReader(maximumPayloadBytes: maximumMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard let app = self.broker.apps.app(key: self.appKey) else {
            self.broker.metrics.unknownAppRefusals.increment()
            self.refuse(.applicationDoesNotExist, "App key \(self.appKey) does not exist")
            return
        }
        guard app.configuration.enabled else {
            app.metrics.refused(.appDisabled)
            self.refuse(.applicationDisabled, "App \(app.id) is disabled")
            return
        }
        if let code = ProtocolVersion.validate(self.protocolVersion) {
            app.metrics.refused(.protocolVersion)
            self.refuse(code, "Protocol version \(self.protocolVersion ?? "(none)") is not supported; use 5, 6 or 7")
            return
        }
        let shard = self.broker.shard(for: context.eventLoop)
        let opened = shard.assumeIsolated { shard in
            Result { () throws(ConnectionRefusal) in
                try shard.open(
                    app: app, broker: self.broker, outbound: self, clientAddress: self.clientAddress, now: .now()
                )
            }
        }
        switch opened {
        case .success(let connection):
            self.connection = connection
            connection.assumeIsolated { $0.start() }
        case .failure(let refusal):
            self.refuse(refusal.code, refusal.message)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isClosing = true
        let code = self.closeCode
        self.connection?.assumeIsolated { $0.closed(code: code) }
        self.connection = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.isClosing else { return }
        do {
            try self.reader.read(self.unwrapInboundIn(data)) { frame in
                self.receive(frame)
                return !self.isClosing
            }
        } catch {
            switch error {
            case .frameTooLarge:
                self.broker.apps.app(key: self.appKey)?.metrics.refused(.payloadSize)
                self.closeSocket(code: 1009, reason: "Message larger than \(self.maximumMessageBytes) bytes")
            case .protocolError(let reason):
                self.closeSocket(code: 1002, reason: reason)
            }
        }
    }

    private func receive(_ frame: WebSocketFrame) {
        guard frame.maskKey != nil else {
            // RFC 6455 §5.1: a server must close a connection whose client frames are unmasked.
            self.closeSocket(code: 1002, reason: "Client frames must be masked")
            return
        }
        switch frame.opcode {
        case .text, .binary, .continuation:
            self.receiveDataFrame(frame)
        case .ping:
            guard self.connection?.assumeIsolated({ $0.receivedOtherFrame(now: .now()) }) == true else { return }
            self.write(.pong(echoing: frame.unmaskedData))
            self.flush()
        case .pong:
            _ = self.connection?.assumeIsolated { $0.receivedOtherFrame(now: .now()) }
        case .connectionClose:
            self.closeSocket(code: Self.echoedCloseCode(frame), reason: "")
        default:
            self.closeSocket(code: 1002, reason: "unknown opcode")
        }
    }

    /// The socket's write buffer passed the connection's outbound budget (the channel's
    /// high water mark). Frames waiting for a batched flush count too, so flush first:
    /// only a client whose kernel buffer cannot take them is not reading.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, !self.isClosing {
            self.flush()
            if !context.channel.isWritable {
                self.connection?.assumeIsolated { $0.outboundBudgetExceeded() }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: - Outbound

    func write(_ frame: OutboundFrame) {
        guard !self.isClosing, self.context != nil else { return }
        if self.unflushed == nil {
            self.unflushed = frame.buffer
        } else {
            self.unflushed!.writeImmutableBuffer(frame.buffer)
        }
    }

    func flush() {
        guard let context = self.context else { return }
        if let frames = self.unflushed.take() {
            // One trip down the pipeline for both, not one each.
            context.writeAndFlush(self.wrapOutboundOut(frames), promise: nil)
        } else {
            context.flush()
        }
    }

    func close(code: PusherCode, reason: String) {
        self.closeSocket(code: code.rawValue, reason: reason)
    }

    // MARK: - Private

    private func receiveDataFrame(_ frame: WebSocketFrame) {
        guard !self.isClosing else { return }
        var payload = frame.unmaskedData
        if frame.opcode == .continuation {
            guard self.fragments != nil else {
                self.closeSocket(code: 1002, reason: "continuation frame without a message")
                return
            }
        } else {
            guard self.fragments == nil else {
                self.closeSocket(code: 1002, reason: "new message before the previous one finished")
                return
            }
            self.fragments = frame.fin ? nil : ByteBuffer()
            self.fragmentsAreText = frame.opcode == .text
            if frame.fin {
                self.deliver(payload, isText: frame.opcode == .text)
                return
            }
        }
        guard (self.fragments?.readableBytes ?? 0) + payload.readableBytes <= self.maximumMessageBytes else {
            self.broker.apps.app(key: self.appKey)?.metrics.refused(.payloadSize)
            self.closeSocket(code: 1009, reason: "Message larger than \(self.maximumMessageBytes) bytes")
            return
        }
        self.fragments?.writeBuffer(&payload)
        if frame.fin, let message = self.fragments {
            self.fragments = nil
            self.deliver(message, isText: self.fragmentsAreText)
        }
    }

    private func deliver(_ message: ByteBuffer, isText: Bool) {
        guard isText else {
            self.connection?.assumeIsolated { $0.receivedBinary(now: .now()) }
            return
        }
        let bytes = Array(message.readableBytesView)
        self.connection?.assumeIsolated { $0.receive(text: bytes, now: .now()) }
    }

    /// Refuses a socket before it becomes a connection: `pusher:error` then the close code.
    private func refuse(_ code: PusherCode, _ message: String) {
        self.broker.logRefusal(code: code, reason: message, appKey: self.appKey)
        self.write(OutboundFrame(event: .error(code: code, message: message)))
        self.closeSocket(code: code.rawValue, reason: message)
    }

    /// Sends the close frame after everything queued, then closes the socket. A client
    /// that does not read cannot hold the socket open: after ``closeTimeout`` it is
    /// closed whether the frame went out or not.
    private func closeSocket(code: UInt16, reason: String) {
        guard !self.isClosing, let context = self.context else { return }
        if let frames = self.unflushed.take() {
            context.write(self.wrapOutboundOut(frames), promise: nil)
        }
        self.isClosing = true
        self.closeCode = code
        self.fragments = nil
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeTimeout) {
            context.close(promise: nil)
        }
        context.writeAndFlush(self.wrapOutboundOut(OutboundFrame.close(code: code, reason: reason).buffer))
            .assumeIsolated()
            .whenComplete { _ in
                deadline.cancel()
                context.close(promise: nil)
            }
    }

    static let closeTimeout = TimeAmount.seconds(2)

    /// RFC 6455 §5.5.1: answer a close with the same status code, or 1000 when it had
    /// none. A code that may not be sent on the wire (§7.4.1: below 1000, 1004-1006, 1015,
    /// unassigned 1xxx, 5000 and up) or a one-byte payload is a protocol error: 1002.
    private static func echoedCloseCode(_ frame: WebSocketFrame) -> UInt16 {
        var data = frame.unmaskedData
        guard data.readableBytes != 0 else { return 1000 }
        guard let code = data.readInteger(as: UInt16.self) else { return 1002 }
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return code
        default: return 1002
        }
    }
}

/// Touched only on its channel's event loop: NIO calls the handler there, and BrokerCore
/// calls it as an ``Outbound`` only from the connection's actor, whose executor is that
/// same loop. The `Sendable` conformance exists so rooms can hold it across actors.
extension PusherSocketHandler: @unchecked Sendable {}
