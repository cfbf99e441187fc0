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
    /// - Parameter deadline: when the connection's first request must have arrived; the
    ///   clock started when it opened, not when the HTTP handlers took over.
    func install(in pipeline: ChannelPipeline.SynchronousOperations, firstRequestBy deadline: NIODeadline) throws {
        var headerLimits = NIOHTTPDecoderLimitConfiguration()
        headerLimits.maxHeaderFieldSize = self.limits.maxHTTPHeaderBytes
        headerLimits.maxHeaderListSize = self.limits.maxHTTPHeaderBytes
        try pipeline.addHandlers([
            HTTPResponseEncoder(),
            ByteToMessageHandler(
                HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: headerLimits)
            ),
            HTTPRequestDeadlineHandler(timeout: .seconds(Int64(self.limits.handshakeTimeoutSeconds)), firstDeadline: deadline),
            HTTPServerPipelineHandler(),
            HTTPServerProtocolErrorHandler(),
            HTTPAPIHandler(api: self.api, maximumBodyBytes: self.limits.maxHTTPBodyBytes),
        ])
    }
}
