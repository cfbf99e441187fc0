import NIOHTTP1

/// An HTTP request with its body read in full, ready for ``HTTPAPI``.
struct APIRequest: Sendable {
    var method: HTTPMethod
    var target: RequestTarget
    var body: [UInt8]
    /// The `Origin` header, checked against an app's `allowed_origins` on `/app/{key}`.
    var origin: String? = nil
    /// The `Authorization` header, checked on `/metrics` when the node has a metrics token.
    var authorization: String? = nil
}
