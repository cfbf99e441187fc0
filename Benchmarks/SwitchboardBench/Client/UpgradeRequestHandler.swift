import NIOCore
import NIOHTTP1

/// Sends the `GET /app/{key}` request that the client upgrader turns into a WebSocket
/// handshake (RFC 6455 §4.1), then steps aside: `NIOHTTPClientUpgradeHandler` adds the
/// `Upgrade` and `Sec-WebSocket-*` headers on the way out.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let name = "bench-upgrade-request"

    private let host: String
    private let path: String

    init(host: String, path: String) {
        self.host = host
        self.path = path
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.host)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.path, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    /// A response reaching this handler means the server refused the upgrade.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data) {
            context.fireErrorCaught(UpgradeRefusedError(status: head.status))
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpgradeRequestHandler: Sendable {}

/// The server answered the WebSocket handshake with an HTTP response instead of 101.
struct UpgradeRefusedError: Error, CustomStringConvertible {
    var status: HTTPResponseStatus
    var description: String { "WebSocket upgrade refused: HTTP \(self.status.code)" }
}
