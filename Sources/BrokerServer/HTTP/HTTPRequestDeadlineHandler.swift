import NIOCore
import NIOHTTP1

/// Closes an HTTP connection that takes too long to send a request.
///
/// The clock starts when the connection opens and again after each response; it stops
/// while a complete request is being answered. A deadline rather than an idle timer, so
/// a client dribbling one header byte at a time (slowloris) is closed as surely as a
/// silent one.
final class HTTPRequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private let firstDeadline: NIODeadline
    private var timer: Scheduled<Void>?

    /// - Parameter firstDeadline: when the first request must have arrived by.
    init(timeout: TimeAmount, firstDeadline: NIODeadline) {
        self.timeout = timeout
        self.firstDeadline = firstDeadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.arm(context: context, deadline: self.firstDeadline)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.disarm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = self.unwrapInboundIn(data) { self.disarm() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) { self.arm(context: context, deadline: .now() + self.timeout) }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext, deadline: NIODeadline) {
        self.disarm()
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            context.close(promise: nil)
        }
    }

    private func disarm() {
        self.timer?.cancel()
        self.timer = nil
    }
}

@available(*, unavailable)
extension HTTPRequestDeadlineHandler: Sendable {}
