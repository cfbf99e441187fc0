import NIOCore
import NIOWebSocket

/// One benchmark subscriber: speaks its broker's protocol through a ``SubscriberSession``
/// and timestamps every benchmark event it receives.
///
/// A NIO handler rather than a Task per connection, for the same reason the server is
/// built that way: thousands of sockets must cost the generator little memory and CPU,
/// or the generator measures itself. Latency is `now - t` on the clock the publisher used
/// (`NIODeadline.now()`, monotonic, same process), so no clock skew enters the numbers.
final class SubscriberHandler<Session: SubscriberSession>: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var session: Session
    private let isSlow: Bool
    private let statistics: NIOLoopBoundBox<LoopStatistics>
    private let registry: StatisticsRegistry
    private let subscribed: EventLoopPromise<Void>
    private var isSubscribed = false
    private var isClosing = false

    /// - Parameter isSlow: after subscribing, stop reading the socket for good, so the
    ///   server's outbound queue for this connection grows until its budget closes it.
    init(
        session: Session,
        isSlow: Bool,
        registry: StatisticsRegistry,
        statistics: NIOLoopBoundBox<LoopStatistics>,
        subscribed: EventLoopPromise<Void>
    ) {
        self.session = session
        self.isSlow = isSlow
        self.registry = registry
        self.statistics = statistics
        self.subscribed = subscribed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            self.session.receive(frame.unmaskedData) { self.handle($0, context: context) }
        case .ping:
            self.send(opcode: .pong, data: frame.unmaskedData, context: context)
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self) ?? 1005
            self.statistics.value.closeCodes[code, default: 0] += 1
            if !self.isClosing, !self.registry.isShuttingDown { self.statistics.value.disconnects += 1 }
            self.isClosing = true
            self.send(opcode: .connectionClose, data: context.channel.allocator.buffer(integer: code), context: context)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.isClosing, !self.registry.isShuttingDown { self.statistics.value.disconnects += 1 }
        self.subscribed.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.subscribed.fail(error)
        context.close(promise: nil)
    }

    private func handle(_ signal: SubscriberSignal, context: ChannelHandlerContext) {
        switch signal {
        case .delivered(let sentAt):
            guard !(self.isSlow && self.isSubscribed) else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            self.statistics.value.latency.record(nanoseconds: now >= sentAt ? now - sentAt : 0)
            self.statistics.value.deliveries += 1
            self.registry.recordDelivery()
        case .send(let text):
            let data = context.channel.allocator.buffer(string: text)
            self.send(opcode: Session.outboundOpcode, data: data, context: context)
        case .subscribed:
            self.isSubscribed = true
            if self.isSlow {
                try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            }
            self.subscribed.succeed()
        case .error:
            self.statistics.value.protocolErrors += 1
        }
    }

    /// Client frames must be masked (RFC 6455 §5.3).
    private func send(opcode: WebSocketOpcode, data: ByteBuffer, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data)
        context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
    }
}

@available(*, unavailable)
extension SubscriberHandler: Sendable {}
