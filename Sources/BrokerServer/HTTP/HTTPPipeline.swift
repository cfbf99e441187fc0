import BrokerConfig
import NIOCore
import NIOHTTP1

/// The handlers that serve the HTTP API, installed on a connection once its first
/// request turns out not to be a WebSocket upgrade (``WebSocketUpgradeHandler``).
///
/// Request heads are bounded by `max_http_header_bytes` (the decoder answers 400
/// beyond), and a connection that has not sent a whole request by its deadline is
/// closed.
struct HTTPPipeline: Sendable {
    let api: HTTPAPI
    let limits: Limits

    /// Adds the handlers at the end of `pipeline`.
    /// - Parameters:
    ///   - deadline: when the connection's first request must have arrived; the clock
    ///     started when it opened, not when the HTTP handlers took over.
    ///   - upgradeRequested: called, once the request has been read, with a later request
    ///     that asks to upgrade: the connection's first request was already offered to
    ///     the upgrade path, later ones go back to it.
    /// - Returns: the handlers added, for removing them when the connection upgrades.
    func install(
        in pipeline: ChannelPipeline.SynchronousOperations,
        firstRequestBy deadline: NIODeadline,
        upgradeRequested: @escaping (HTTPRequestHead) -> Void
    ) throws -> [any RemovableChannelHandler] {
        var headerLimits = NIOHTTPDecoderLimitConfiguration()
        headerLimits.maxHeaderFieldSize = self.limits.maxHTTPHeaderBytes
        headerLimits.maxHeaderListSize = self.limits.maxHTTPHeaderBytes
        let handlers: [any RemovableChannelHandler] = [
            HTTPResponseEncoder(),
            ByteToMessageHandler(
                HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: headerLimits)
            ),
            HTTPRequestDeadlineHandler(timeout: .seconds(Int64(self.limits.handshakeTimeoutSeconds)), firstDeadline: deadline),
            HTTPServerPipelineHandler(),
            HTTPServerProtocolErrorHandler(),
            HTTPAPIHandler(
                api: self.api, maximumBodyBytes: self.limits.maxHTTPBodyBytes, upgradeRequested: upgradeRequested
            ),
        ]
        try pipeline.addHandlers(handlers)
        return handlers
    }
}
