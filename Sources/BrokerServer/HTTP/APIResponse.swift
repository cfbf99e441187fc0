import NIOCore
import NIOHTTP1
import PusherProtocol

/// A complete HTTP API answer: status and JSON body.
struct APIResponse: Sendable {
    var status: HTTPResponseStatus
    var body: JSONValue
    var headers: [(String, String)] = []

    static func ok(_ body: JSONValue = .object([])) -> APIResponse {
        APIResponse(status: .ok, body: body)
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
