import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// One signed webhook POST, ready to send.
struct WebhookRequest: Sendable {
    var url: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

/// Sends webhook POSTs. The dispatcher only needs the status code, which keeps its
/// retry logic testable without sockets.
///
/// Contract: ``send(_:deadline:)`` returns the response status once the response has
/// been read, and throws for anything that produced no status (refused connection,
/// timeout at `deadline`, task cancellation). ``shutdown()`` is called once, after the
/// last send has returned.
protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest, deadline: NIODeadline) async throws -> UInt
    func shutdown() async throws
}

/// ``WebhookTransport`` over async-http-client, which pools connections per endpoint
/// so a burst of batches does not open a socket each.
struct HTTPClientWebhookTransport: WebhookTransport {
    /// Bytes of a response body read before the connection is let go; receivers answer
    /// with a few bytes, and nothing in the body changes the outcome.
    private static let maxResponseBytes = 64 * 1024
    private let client: HTTPClient

    init(connectTimeout: TimeAmount) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout)
        )
        configuration.httpVersion = .http1Only
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    func send(_ request: WebhookRequest, deadline: NIODeadline) async throws -> UInt {
        var httpRequest = HTTPClientRequest(url: request.url)
        httpRequest.method = .POST
        for header in request.headers {
            httpRequest.headers.add(name: header.name, value: header.value)
        }
        httpRequest.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await self.client.execute(httpRequest, deadline: deadline)
        // Read the (small) body so the pooled connection can carry the next request.
        _ = try? await response.body.collect(upTo: Self.maxResponseBytes)
        return response.status.code
    }

    func shutdown() async throws {
        try await self.client.shutdown()
    }
}
