import NIOHTTP1

/// An HTTP request with its body read in full, ready for ``HTTPAPI``.
struct APIRequest: Sendable {
    var method: HTTPMethod
    var target: RequestTarget
    var body: [UInt8]
}
