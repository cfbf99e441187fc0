import BrokerConfig
import NIOHTTP1
import PusherProtocol
import Testing

@testable import BrokerServer

@Suite("HTTP API routing and status codes")
struct HTTPAPITests {
    static let now = 1_700_000_000

    /// A request signed as the Pusher server SDKs sign it.
    static func request(
        _ method: HTTPMethod,
        _ path: String,
        body: String = "",
        query: [String: String] = [:],
        key: String = TestApps.enabled.key,
        secret: String = TestApps.enabled.secret,
        timestamp: Int = now,
        tamper: (String) -> String = { $0 }
    ) -> APIRequest {
        let body = Array(body.utf8)
        var parameters = query
        parameters["auth_key"] = key
        parameters["auth_timestamp"] = String(timestamp)
        parameters["auth_version"] = "1.0"
        if !body.isEmpty { parameters["body_md5"] = RequestSignature.md5(of: body) }
        let signer = RequestSignature(appKey: key, secret: secret, timestampWindowSeconds: 600)
        parameters["auth_signature"] = tamper(signer.sign(method: method.rawValue, path: path, parameters: parameters))
        let queryText = parameters.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "&")
        return APIRequest(method: method, target: RequestTarget("\(path)?\(queryText)"), body: body)
    }

    static func event(channels: [String], data: String = "hello") -> String {
        JSONValue.object([
            ("name", .string("my-event")), ("data", .string(data)), ("channels", .array(channels.map { .string($0) })),
        ]).serialized
    }

    func handle(_ request: APIRequest, harness: ServerHarness) async -> APIResponse {
        switch HTTPAPI(broker: harness.broker, now: { Double(Self.now) }).answer(request) {
        case .now(let response): response
        case .later(let work): await work()
        }
    }

    @Test("a signed trigger is answered 200 {}")
    func triggerSucceeds() async throws {
        let harness = try await ServerHarness()
        let response = await self.handle(
            Self.request(.POST, "/apps/1/events", body: Self.event(channels: ["news"])),
            harness: harness
        )
        #expect(response.status == .ok)
        #expect(response.json == .object([]))
        await harness.shutdown()
    }

    @Test("publishes, health checks and refusals are answered at once; queries become tasks")
    func answersWithoutAwaitingWhenItCan() async throws {
        let harness = try await ServerHarness()
        let api = HTTPAPI(broker: harness.broker, now: { Double(Self.now) })
        let batch = #"{"batch":[{"name":"e","data":"d","channel":"news"}]}"#
        let immediate: [(APIRequest, HTTPResponseStatus)] = [
            (Self.request(.POST, "/apps/1/events", body: Self.event(channels: ["news"])), .ok),
            (Self.request(.POST, "/apps/1/batch_events", body: batch), .ok),
            (Self.request(.GET, "/live"), .ok),
            (Self.request(.POST, "/apps/1/events", body: Self.event(channels: ["news"]), tamper: { $0 + "0" }), .unauthorized),
            (Self.request(.GET, "/apps/1/channels/news", query: ["info": "user_count"]), .badRequest),
        ]
        for (request, status) in immediate {
            guard case .now(let response) = api.answer(request) else {
                Issue.record("\(request.target.rawPath) was not answered at once")
                continue
            }
            #expect(response.status == status)
        }
        let deferred = [
            Self.request(.POST, "/apps/1/events", body: #"{"name":"e","data":"d","channels":["news"],"info":"subscription_count"}"#),
            Self.request(.GET, "/apps/1/channels"),
            Self.request(.GET, "/apps/1/channels/presence-room/users"),
        ]
        for request in deferred {
            guard case .later(let work) = api.answer(request) else {
                Issue.record("\(request.target.rawPath) was answered without asking the broker")
                continue
            }
            #expect(await work().status == .ok)
        }
        await harness.shutdown()
    }

    @Test("a trigger asking for info gets the channels' attributes")
    func triggerWithInfo() async throws {
        let harness = try await ServerHarness()
        let body = #"{"name":"e","data":"d","channels":["news"],"info":"subscription_count"}"#
        let response = await self.handle(Self.request(.POST, "/apps/1/events", body: body), harness: harness)
        #expect(response.status == .ok)
        #expect(response.json.serialized == #"{"channels":{"news":{"subscription_count":0}}}"#)
        await harness.shutdown()
    }

    @Test("an unknown app is 404")
    func unknownApp() async throws {
        let harness = try await ServerHarness()
        let response = await self.handle(
            Self.request(.POST, "/apps/99/events", body: Self.event(channels: ["news"])),
            harness: harness
        )
        #expect(response.status == .notFound)
        #expect(response.json["error"]?.stringValue != nil)
        await harness.shutdown()
    }

    @Test("a signature with one digit changed is 401")
    func badSignature() async throws {
        let harness = try await ServerHarness()
        let request = Self.request(.POST, "/apps/1/events", body: Self.event(channels: ["news"])) { signature in
            var characters = Array(signature)
            characters[5] = characters[5] == "a" ? "b" : "a"
            return String(characters)
        }
        #expect(await self.handle(request, harness: harness).status == .unauthorized)
        await harness.shutdown()
    }

    @Test("a request signed with another app's secret or a stale timestamp is 401")
    func otherAuthFailures() async throws {
        let harness = try await ServerHarness()
        let body = Self.event(channels: ["news"])
        let wrongSecret = Self.request(.POST, "/apps/1/events", body: body, secret: "guess")
        #expect(await self.handle(wrongSecret, harness: harness).status == .unauthorized)
        let stale = Self.request(.POST, "/apps/1/events", body: body, timestamp: Self.now - 601)
        #expect(await self.handle(stale, harness: harness).status == .unauthorized)
        await harness.shutdown()
    }

    @Test("a disabled app is 403 to a caller holding its secret")
    func disabledApp() async throws {
        let harness = try await ServerHarness()
        let request = Self.request(
            .POST,
            "/apps/2/events",
            body: Self.event(channels: ["news"]),
            key: TestApps.disabled.key,
            secret: TestApps.disabled.secret
        )
        #expect(await self.handle(request, harness: harness).status == .forbidden)
        await harness.shutdown()
    }

    @Test("a body that is not JSON is 400")
    func malformedJSON() async throws {
        let harness = try await ServerHarness()
        let response = await self.handle(
            Self.request(.POST, "/apps/1/events", body: #"{"name":"e","#),
            harness: harness
        )
        #expect(response.status == .badRequest)
        await harness.shutdown()
    }

    @Test("data over the event size limit is 413")
    func dataTooLarge() async throws {
        let harness = try await ServerHarness()
        let body = Self.event(channels: ["news"], data: String(repeating: "x", count: 10_241))
        #expect(
            await self.handle(Self.request(.POST, "/apps/1/events", body: body), harness: harness).status
                == .payloadTooLarge
        )
        await harness.shutdown()
    }

    @Test("more than 100 channels is 400")
    func tooManyChannels() async throws {
        let harness = try await ServerHarness()
        let body = Self.event(channels: (0...100).map { "c\($0)" })
        #expect(
            await self.handle(Self.request(.POST, "/apps/1/events", body: body), harness: harness).status == .badRequest
        )
        await harness.shutdown()
    }

    @Test("a batch over the batch size is 413, within it 200")
    func batchSize() async throws {
        let harness = try await ServerHarness()
        func batch(_ count: Int) -> String {
            let entry = JSONValue.object([("name", .string("e")), ("data", .string("d")), ("channel", .string("news"))])
            return JSONValue.object([("batch", .array(Array(repeating: entry, count: count)))]).serialized
        }
        #expect(
            await self.handle(Self.request(.POST, "/apps/1/batch_events", body: batch(10)), harness: harness).status
                == .ok
        )
        #expect(
            await self.handle(Self.request(.POST, "/apps/1/batch_events", body: batch(11)), harness: harness).status
                == .payloadTooLarge
        )
        await harness.shutdown()
    }

    @Test("an unknown endpoint is 404 and a wrong method is 405")
    func routing() async throws {
        let harness = try await ServerHarness()
        #expect(await self.handle(Self.request(.GET, "/apps/1/nothing"), harness: harness).status == .notFound)
        #expect(await self.handle(Self.request(.GET, "/elsewhere"), harness: harness).status == .notFound)
        #expect(await self.handle(Self.request(.GET, "/apps/1/events"), harness: harness).status == .methodNotAllowed)
        await harness.shutdown()
    }

    @Test("GET /channels lists occupied channels only")
    func channels() async throws {
        let harness = try await ServerHarness()
        let response = await self.handle(Self.request(.GET, "/apps/1/channels"), harness: harness)
        #expect(response.status == .ok)
        #expect(response.json.serialized == #"{"channels":{}}"#)
        await harness.shutdown()
    }

    @Test("a channel path is signed over its decoded form, as the SDKs do")
    func decodedPathSignature() async throws {
        let harness = try await ServerHarness()
        var request = Self.request(.GET, "/apps/1/channels/#server-to-user-u1")
        // Sent percent-encoded, signed decoded.
        let query = request.target.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        request.target = RequestTarget("/apps/1/channels/%23server-to-user-u1?\(query)")
        let response = await self.handle(request, harness: harness)
        #expect(response.status == .ok)
        #expect(response.json.serialized == #"{"occupied":false}"#)
        await harness.shutdown()
    }

    @Test("terminate_connections is accepted on the Python SDK's path without /apps/{id}")
    func terminateOnPythonPath() async throws {
        let harness = try await ServerHarness()
        let withApp = await self.handle(
            Self.request(.POST, "/apps/1/users/u1/terminate_connections", body: "{}"),
            harness: harness
        )
        #expect(withApp.status == .ok)
        let withoutApp = await self.handle(
            Self.request(.POST, "/users/u1/terminate_connections", body: "{}"),
            harness: harness
        )
        #expect(withoutApp.status == .ok)
        #expect(withoutApp.json == .object([]))
        await harness.shutdown()
    }
}

extension APIResponse {
    /// The JSON body; the API answers JSON on every route these tests call.
    var json: JSONValue {
        guard case .json(let value) = self.body else {
            Issue.record("expected a JSON body")
            return .null
        }
        return value
    }
}
