import Backbone
import BrokerConfig
import BrokerCore
import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import PusherProtocol

/// The Pusher HTTP API (PROTOCOL.md, "HTTP API"): authenticates each request against its
/// app's secret, then publishes or answers queries through the ``Broker``.
///
/// Order of checks: route, app, signature, app enabled, body. A request for an unknown
/// app is 404 before any signature work; a disabled app is 403 only to a caller who
/// proved they hold its secret.
struct HTTPAPI: Sendable {
    let broker: Broker
    /// Serves `GET /metrics` when the node exports Prometheus metrics.
    let metrics: MetricsEndpoint?
    /// Seconds since 1970, injectable so timestamp-window tests do not depend on the clock.
    let now: @Sendable () -> Double

    init(
        broker: Broker,
        metrics: MetricsEndpoint? = nil,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.broker = broker
        self.metrics = metrics
        self.now = now
    }

    /// Answers `request`, at once unless something in it has to await.
    func answer(_ request: APIRequest) -> APIAnswer {
        let route = APIRoute(request.target.pathSegments)
        let answer: APIAnswer
        do {
            answer = try self.route(request)
        } catch {
            answer = .now(error.response)
        }
        switch answer {
        case .now(var response):
            response.route = route
            return .now(response)
        case .later(let work):
            return .later {
                var response = await work()
                response.route = route
                return response
            }
        }
    }

    private func route(_ request: APIRequest) throws(APIError) -> APIAnswer {
        let segments = request.target.pathSegments
        switch (request.method, segments.count, segments.first) {
        case (.GET, 1, "live"):
            return .now(.ok(.object([("status", .string("live"))])))
        case (.GET, 1, "ready"):
            return .now(try self.readiness())
        case (.GET, 1, "metrics") where self.metrics != nil:
            try self.metrics!.authorize(request.authorization)
            return .later { await self.metrics!.render(self.broker) }
        case (_, 5, "apps") where segments[2] == "users" && segments[4] == "terminate_connections",
            (_, 3, "users") where segments[2] == "terminate_connections":
            let app = try self.authenticate(request, appID: segments.count == 5 ? segments[1] : nil)
            try Self.require(.POST, request)
            return .now(self.terminate(app: app, userID: segments[segments.count - 2]))
        case (_, 3, "apps") where segments[2] == "events":
            let app = try self.authenticate(request, appID: segments[1])
            try Self.require(.POST, request)
            return try self.trigger(app: app, body: request.body)
        case (_, 3, "apps") where segments[2] == "batch_events":
            let app = try self.authenticate(request, appID: segments[1])
            try Self.require(.POST, request)
            return try self.triggerBatch(app: app, body: request.body)
        case (_, 3, "apps") where segments[2] == "channels":
            let app = try self.authenticate(request, appID: segments[1])
            try Self.require(.GET, request)
            return try self.channels(app: app, target: request.target)
        case (_, 4, "apps") where segments[2] == "channels":
            let app = try self.authenticate(request, appID: segments[1])
            try Self.require(.GET, request)
            return try self.channel(app: app, name: segments[3], target: request.target)
        case (_, 5, "apps") where segments[2] == "channels" && segments[4] == "users":
            let app = try self.authenticate(request, appID: segments[1])
            try Self.require(.GET, request)
            return try self.users(app: app, channel: segments[3])
        default:
            if segments.count == 2, segments.first == "app" {
                switch UpgradeRefusal(appKey: segments[1], origin: request.origin, broker: self.broker) {
                case .draining:
                    throw APIError(status: .serviceUnavailable, message: "This node is draining; connect to another")
                case .originNotAllowed:
                    throw .forbidden("Origin \(request.origin ?? "") is not allowed for this app")
                case nil:
                    throw .badRequest("WebSocket endpoint: connect with a WebSocket upgrade request")
                }
            }
            throw .notFound("No such endpoint: \(request.method) \(request.target.rawPath)")
        }
    }

    /// `/ready` is 200 only while the node is listening and not draining, so a load
    /// balancer stops routing new clients here the moment a drain starts.
    private func readiness() throws(APIError) -> APIResponse {
        switch self.broker.readiness {
        case .ready:
            return .ok(.object([("status", .string("ready"))]))
        case .notReady(let reason):
            throw APIError(status: .serviceUnavailable, message: reason)
        }
    }

    // MARK: - Authentication

    /// Finds the app (by path id, or by `auth_key` for `/users/...`) and checks the signature.
    private func authenticate(_ request: APIRequest, appID: String?) throws(APIError) -> App {
        let found: App?
        if let appID {
            found = self.broker.apps.app(id: appID)
        } else {
            found = request.target.queryValue("auth_key").flatMap { self.broker.apps.app(key: $0) }
        }
        guard let app = found else { throw .notFound("Unknown app \(appID ?? "for this auth_key")") }
        let verify = { (path: String) in
            app.requestSignature.verify(
                method: request.method.rawValue, path: path, query: request.target.query, body: request.body,
                now: self.now()
            )
        }
        // SDKs sign the path before percent-encoding it; accept either spelling.
        var failure = verify(request.target.rawPath)
        if failure == .invalidSignature {
            let decoded = RequestTarget.decode(ArraySlice(request.target.rawPath.utf8), plusIsSpace: false)
            if decoded != request.target.rawPath { failure = verify(decoded) }
        }
        if let failure {
            app.metrics.refused(.httpSignature)
            throw APIError(failure)
        }
        guard app.configuration.enabled else { throw .forbidden("App \(app.id) is disabled") }
        if let wait = app.admitHTTPRequest() {
            app.metrics.refused(.httpRate)
            throw .tooManyRequests(
                "Rate limit of \(app.limits.httpRequestsPerSecond) requests per second exceeded",
                retryAfter: wait
            )
        }
        return app
    }

    private static func require(_ method: HTTPMethod, _ request: APIRequest) throws(APIError) {
        guard request.method == method else {
            throw APIError(status: .methodNotAllowed, message: "Use \(method) for \(request.target.rawPath)")
        }
    }

    // MARK: - Publishing

    private static func triggerLimits(_ app: App) -> TriggerRequest.Limits {
        TriggerRequest.Limits(
            maximumChannels: app.limits.maxChannelsPerTrigger,
            maximumNameLength: app.limits.maxEventNameLength,
            maximumDataBytes: app.limits.maxEventBytes
        )
    }

    private func trigger(app: App, body: [UInt8]) throws(APIError) -> APIAnswer {
        let json = try Self.parseJSON(body)
        let request: TriggerRequest
        do {
            request = try TriggerRequest(json: json, limits: Self.triggerLimits(app))
        } catch {
            throw Self.refusal(error, app: app)
        }
        try self.publish(request, app: app)
        guard !request.info.isEmpty else { return .now(.ok()) }
        return .later { .ok(.object([("channels", await self.info(request, app: app))])) }
    }

    private func triggerBatch(app: App, body: [UInt8]) throws(APIError) -> APIAnswer {
        let json = try Self.parseJSON(body)
        let batch: BatchTriggerRequest
        do {
            batch = try BatchTriggerRequest(
                json: json, maximumEvents: app.limits.maxBatchSize, limits: Self.triggerLimits(app)
            )
        } catch {
            throw Self.refusal(error, app: app)
        }
        for request in batch.events {
            try self.publish(request, app: app)
        }
        guard batch.events.contains(where: { !$0.info.isEmpty }) else { return .now(.ok()) }
        return .later {
            var results: [JSONValue] = []
            for request in batch.events {
                // A batch entry names one channel; its info is that channel's attributes.
                if case .object(let channels) = await self.info(request, app: app), let first = channels.first {
                    results.append(first.value)
                } else {
                    results.append(.object([]))
                }
            }
            return .ok(.object([("batch", .array(results))]))
        }
    }

    private func publish(_ request: TriggerRequest, app: App) throws(APIError) {
        if request.info.contains("user_count"), request.channels.contains(where: { $0.kind != .presence }) {
            throw .badRequest("info=user_count is only available for presence channels")
        }
        app.metrics.httpMessagesIn.increment(by: Int64(request.channels.count))
        app.metrics.httpBytesIn.increment(by: Int64(request.channels.count * request.data.utf8.count))
        for channel in request.channels {
            let event = ServerEvent(event: request.name, channel: channel.name, data: .string(request.data))
            self.broker.publish(app: app, channel: channel, event: event, excluding: request.excludedSocket)
        }
    }

    private func info(_ request: TriggerRequest, app: App) async -> JSONValue {
        var channels: [(key: String, value: JSONValue)] = []
        for channel in request.channels {
            channels.append((channel.name, await self.attributes(app: app, channel: channel, info: request.info)))
        }
        return .object(channels)
    }

    // MARK: - Queries

    private func channels(app: App, target: RequestTarget) throws(APIError) -> APIAnswer {
        let prefix = target.queryValue("filter_by_prefix")
        let info = Self.infoAttributes(target)
        if info.contains("user_count"), !(prefix?.hasPrefix("presence-") ?? false) {
            throw .badRequest("info=user_count requires filter_by_prefix=presence-")
        }
        return .later {
            let occupied = await self.broker.occupiedChannels(app: app, prefix: prefix)
            var channels: [(key: String, value: JSONValue)] = []
            for name in occupied.keys.sorted() {
                var attributes: [(key: String, value: JSONValue)] = []
                if info.contains("user_count") {
                    let count = await self.broker.backbone.members(app: app.id, channel: name).count
                    attributes.append(("user_count", .number(String(count))))
                }
                if info.contains("subscription_count") {
                    attributes.append(("subscription_count", .number(String(occupied[name] ?? 0))))
                }
                channels.append((name, .object(attributes)))
            }
            return .ok(.object([("channels", .object(channels))]))
        }
    }

    private func channel(app: App, name: String, target: RequestTarget) throws(APIError) -> APIAnswer {
        let channel = try Self.channelName(name)
        let info = Self.infoAttributes(target)
        if info.contains("user_count"), channel.kind != .presence {
            throw .badRequest("info=user_count is only available for presence channels")
        }
        return .later {
            let count = await self.broker.subscriptionCount(app: app, channel: channel.name)
            guard case .object(var attributes) = await self.attributes(app: app, channel: channel, info: info) else {
                return .ok()
            }
            attributes.insert(("occupied", .bool(count > 0)), at: 0)
            if info.contains("cache"), channel.isCache,
                let cached = await self.broker.backbone.lastEvent(app: app.id, channel: channel.name)
            {
                let event = try? JSONParser.parse(bytes: Array(cached.payload.readableBytesView))
                attributes.append((
                    "cache",
                    .object([
                        ("event", event?["event"] ?? .null), ("data", event?["data"] ?? .null),
                        ("ttl", .number(String(cached.timeToLive.nanoseconds / 1_000_000_000))),
                    ])
                ))
            }
            return .ok(.object(attributes))
        }
    }

    private func users(app: App, channel name: String) throws(APIError) -> APIAnswer {
        let channel = try Self.channelName(name)
        guard channel.kind == .presence else { throw .badRequest("Users can only be listed for presence channels") }
        return .later {
            let members = await self.broker.backbone.members(app: app.id, channel: channel.name)
            return .ok(.object([("users", .array(members.map { .object([("id", .string($0.userID))]) }))]))
        }
    }

    /// `subscription_count` and `user_count` of one channel, as requested by `info`.
    private func attributes(app: App, channel: ChannelName, info: Set<String>) async -> JSONValue {
        var attributes: [(key: String, value: JSONValue)] = []
        if info.contains("subscription_count") {
            let count = await self.broker.subscriptionCount(app: app, channel: channel.name)
            attributes.append(("subscription_count", .number(String(count))))
        }
        if info.contains("user_count"), channel.kind == .presence {
            let count = await self.broker.backbone.members(app: app.id, channel: channel.name).count
            attributes.append(("user_count", .number(String(count))))
        }
        return .object(attributes)
    }

    private func terminate(app: App, userID: String) -> APIResponse {
        self.broker.terminate(app: app, userID: userID)
        return .ok()
    }

    // MARK: - Parsing

    private static func refusal(_ error: TriggerRequestError, app: App) -> APIError {
        app.metrics.refused(error.isSizeLimit ? .eventSize : .httpRequest)
        return APIError(error)
    }

    private static func parseJSON(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes: body)
        } catch {
            throw .badRequest("Request body is not valid JSON: \(error)")
        }
    }

    private static func channelName(_ name: String) throws(APIError) -> ChannelName {
        do {
            return try ChannelName(validating: name)
        } catch {
            throw .badRequest("Invalid channel name: \(error)")
        }
    }

    private static func infoAttributes(_ target: RequestTarget) -> Set<String> {
        Set((target.queryValue("info") ?? "").split(separator: ",").map(String.init))
    }
}
