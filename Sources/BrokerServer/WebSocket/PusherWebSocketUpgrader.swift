import BrokerConfig
import BrokerCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Upgrades `GET /app/{key}` to a WebSocket carrying the Pusher protocol (RFC 6455 §4.2).
///
/// Written instead of using `NIOWebSocketServerUpgrader` because that one installs NIO's
/// frame encoder, which only accepts `WebSocketFrame`s; Switchboard writes ready-made
/// frame buffers (``OutboundFrame``) shared by every subscriber, and reads frames in
/// its one handler, so its pipeline has neither NIO's encoder nor its decoder. Refusals that Pusher signals with close codes (unknown key,
/// bad protocol version) happen after the upgrade, in ``PusherSocketHandler``, because
/// pusher-js only reads close codes.
struct PusherWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let broker: Broker
    let trustedProxies: [IPAddressRange]

    let supportedProtocol = "websocket"
    /// Checked in `buildUpgradeResponse`: NIO would also demand these names in `Connection`.
    let requiredUpgradeHeaders: [String] = []

    private static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        guard !self.broker.isDraining, let path = PusherPath(upgradeRequest.uri),
            let key = upgradeRequest.headers.first(name: "sec-websocket-key"),
            upgradeRequest.headers.first(name: "sec-websocket-version") == "13"
        else {
            // The request then reaches the HTTP handler, which answers it with 400, 404 or 503.
            return channel.eventLoop.makeFailedFuture(UpgradeRefused())
        }
        if let app = self.broker.apps.app(key: path.appKey), !app.allowsOrigin(upgradeRequest.headers.first(name: "origin")) {
            app.metrics.refused(.origin)
            // The HTTP handler answers the request with 403.
            return channel.eventLoop.makeFailedFuture(UpgradeRefused())
        }
        let digest = Insecure.SHA1.hash(data: Data((key + Self.magicGUID).utf8))
        var headers = initialResponseHeaders
        headers.add(name: "Sec-WebSocket-Accept", value: Data(digest).base64EncodedString())
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let path = PusherPath(upgradeRequest.uri)!
        // Unknown keys are refused by the handler right after the upgrade; until then the
        // node's limits apply.
        let limits = self.broker.apps.app(key: path.appKey)?.limits ?? self.broker.limits
        do {
            // The write buffer's high water mark is the outbound budget: past it the
            // channel turns unwritable and the handler closes the slow consumer.
            try context.channel.syncOptions?.setOption(
                .writeBufferWaterMark,
                value: .init(low: limits.maxOutboundBufferBytes / 2, high: limits.maxOutboundBufferBytes)
            )
            try context.pipeline.syncOperations.addHandler(
                PusherSocketHandler(
                    broker: self.broker,
                    appKey: path.appKey,
                    protocolVersion: path.protocolVersion,
                    clientAddress: ClientAddress.resolve(
                        peer: context.channel.remoteAddress?.ipAddress,
                        forwardedFor: upgradeRequest.headers["x-forwarded-for"],
                        trusted: self.trustedProxies
                    ),
                    maximumMessageBytes: limits.maxPayloadBytes
                )
            )
            return context.eventLoop.makeSucceededVoidFuture()
        } catch {
            return context.eventLoop.makeFailedFuture(error)
        }
    }

    private struct UpgradeRefused: Error {}
}

/// `/app/{key}?protocol=7&...`: the WebSocket path pusher-js and pysher connect to.
struct PusherPath {
    var appKey: String
    var protocolVersion: String?

    init?(_ uri: String) {
        let target = RequestTarget(uri)
        let segments = target.pathSegments
        guard segments.count == 2, segments[0] == "app", !segments[1].isEmpty else { return nil }
        self.appKey = segments[1]
        self.protocolVersion = target.query.last(where: { $0.name == "protocol" })?.value
    }
}
