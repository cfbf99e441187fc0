import NIOCore
import NIOHTTP1
import PusherProtocol

/// A complete HTTP API answer: status, body and the route it answered, for metrics.
struct APIResponse: Sendable {
    enum Body: Sendable {
        case json(JSONValue)
        /// Prometheus' text exposition format.
        case text(String, contentType: String)
    }

    var status: HTTPResponseStatus
    var body: Body
    var headers: [(String, String)] = []
    var route: APIRoute = .other

    init(status: HTTPResponseStatus, body: JSONValue, headers: [(String, String)] = []) {
        self.status = status
        self.body = .json(body)
        self.headers = headers
    }

    init(status: HTTPResponseStatus, text: String, contentType: String) {
        self.status = status
        self.body = .text(text, contentType: contentType)
    }

    static func ok(_ body: JSONValue = .object([])) -> APIResponse {
        APIResponse(status: .ok, body: body)
    }
}

/// The endpoint a request reached: the `route` label of the HTTP metrics, a closed set
/// so no path segment (app id, channel name, user id) ever becomes a label.
enum APIRoute: String, Sendable {
    case live, ready, metrics, events
    case batchEvents = "batch_events"
    case channels, channel, users, terminate
    case websocket
    case other

    init(_ segments: [String]) {
        switch (segments.count, segments.first) {
        case (1, "live"): self = .live
        case (1, "ready"): self = .ready
        case (1, "metrics"): self = .metrics
        case (2, "app"): self = .websocket
        case (3, "users"): self = .terminate
        case (3, "apps"):
            switch segments[2] {
            case "events": self = .events
            case "batch_events": self = .batchEvents
            case "channels": self = .channels
            default: self = .other
            }
        case (4, "apps") where segments[2] == "channels": self = .channel
        case (5, "apps") where segments[2] == "channels": self = .users
        case (5, "apps") where segments[2] == "users": self = .terminate
        default: self = .other
        }
    }
}

/// Every refusal the HTTP API makes, with the status it maps to.
///
/// This is the one table from error to HTTP status (STYLE.md, "Errors"); handlers throw
/// an `APIError` and never build an error response themselves.
struct APIError: Error, Sendable {
    var status: HTTPResponseStatus
    var message: String
    var headers: [(String, String)] = []

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, message: message) }
    static func payloadTooLarge(_ message: String) -> APIError { APIError(status: .payloadTooLarge, message: message) }

    /// 429 with `Retry-After` in whole seconds, rounded up so a client that waits that
    /// long is admitted.
    static func tooManyRequests(_ message: String, retryAfter: TimeAmount) -> APIError {
        let seconds = max(1, (retryAfter.nanoseconds + 999_999_999) / 1_000_000_000)
        var error = APIError(status: .tooManyRequests, message: message)
        error.headers = [("Retry-After", String(seconds))]
        return error
    }

    /// 401 naming the scheme the client must use (RFC 9110 §11.6.1).
    static func unauthorized(_ message: String, scheme: String) -> APIError {
        var error = APIError(status: .unauthorized, message: message)
        error.headers = [("WWW-Authenticate", scheme)]
        return error
    }

    init(status: HTTPResponseStatus, message: String) {
        self.status = status
        self.message = message
    }

    init(_ error: RequestSignatureError) {
        self.init(status: .unauthorized, message: error.description)
    }

    init(_ error: TriggerRequestError) {
        self.init(status: error.isSizeLimit ? .payloadTooLarge : .badRequest, message: error.description)
    }

    /// `{"error": "..."}`, the body of every refusal.
    var response: APIResponse {
        APIResponse(status: self.status, body: .object([("error", .string(self.message))]), headers: self.headers)
    }
}
