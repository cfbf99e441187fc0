import Backbone
import BrokerConfig
import Logging
import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

/// Records what BrokerCore writes to one socket.
///
/// `@unchecked Sendable` because BrokerCore requires outbounds to be `Sendable`; this one is
/// only ever touched on the test's `NIOAsyncTestingEventLoop` (by BrokerCore, which calls
/// outbounds on the shard's loop, and by the tests through `executeInContext`).
final class RecordingOutbound: Outbound, @unchecked Sendable {
    /// Every frame received, one per element, as the client would read them.
    private(set) var frames: [OutboundFrame] = []
    /// Calls to `write`: a shard's run of broadcasts arrives as one buffer of several frames.
    private(set) var writeCount = 0
    private(set) var lastWrite: OutboundFrame?
    private(set) var flushCount = 0
    private(set) var closeCode: PusherCode?
    var isFlushPending = false

    /// Drops writes after `close`, as the `Outbound` contract says a transport does.
    func write(_ frame: OutboundFrame) {
        guard self.closeCode == nil else { return }
        self.writeCount += 1
        self.lastWrite = frame
        if frame.frameCount == 1 {
            self.frames.append(frame)
        } else {
            self.frames += ServerFrame.split(frame)
        }
    }

    func flush() {
        self.flushCount += 1
    }

    func close(code: PusherCode, reason: String) {
        self.closeCode = code
    }
}

/// Reads what a server-to-client text frame says: checks the header and parses the JSON.
enum ServerFrame {
    /// The frame's payload after its unmasked header (RFC 6455 §5.2): byte 1 gives the
    /// length 0–125, or 126 for a 16-bit length that follows, or 127 for a 64-bit one.
    static func payload(of frame: OutboundFrame) -> [UInt8] {
        let bytes = Array(frame.buffer.readableBytesView)
        guard bytes.count >= 2 else {
            Issue.record("frame shorter than a header")
            return []
        }
        #expect(bytes[1] & 0x80 == 0, "server frames are never masked")
        let offset: Int
        let length: Int
        switch bytes[1] & 0x7F {
        case 126:
            offset = 4
            length = Int(bytes[2]) << 8 | Int(bytes[3])
        case 127:
            offset = 10
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
        case let short:
            offset = 2
            length = Int(short)
        }
        #expect(bytes.count == offset + length, "frame length matches its header")
        return Array(bytes[offset...])
    }

    /// The text frames of a buffer that holds several, each in a frame of its own.
    static func split(_ frames: OutboundFrame) -> [OutboundFrame] {
        var buffer = frames.buffer
        var split: [OutboundFrame] = []
        while let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self) {
            #expect(first == 0x81 && second & 0x80 == 0, "an unmasked final text frame")
            let length: Int
            switch second & 0x7F {
            case 126: length = Int(buffer.readInteger(as: UInt16.self) ?? 0)
            case 127: length = Int(buffer.readInteger(as: UInt64.self) ?? 0)
            case let short: length = Int(short)
            }
            guard let payload = buffer.readSlice(length: length) else {
                Issue.record("a frame shorter than its header says")
                break
            }
            split.append(OutboundFrame(text: payload))
        }
        #expect(split.count == frames.frameCount)
        return split
    }

    static func json(_ frame: OutboundFrame) throws -> JSONValue {
        #expect(frame.buffer.readableBytesView.first == 0x81, "a final text frame")
        return try JSONParser.parse(bytes: self.payload(of: frame))
    }

    /// The storage address of a frame's bytes, to tell a shared buffer from a copy.
    static func storageAddress(_ frame: OutboundFrame) -> UInt {
        frame.buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }
}

extension JSONValue {
    var eventName: String? { self["event"]?.stringValue }

    /// `data` decoded: `pusher:` events carry their payload as a JSON string.
    var payload: JSONValue? {
        switch self["data"] {
        case .string(let text)?: return try? JSONParser.parse(text)
        case let other: return other
        }
    }
}

extension AppConfiguration {
    static func test(
        clientEvents: Bool = true,
        userAuthenticationTimeoutSeconds: Int? = nil,
        maxConnections: Int? = nil,
        limits: Limits = Limits()
    ) -> AppConfiguration {
        AppConfiguration(
            id: "1",
            key: "app-key",
            secret: "app-secret",
            clientEvents: clientEvents,
            userAuthenticationTimeoutSeconds: userAuthenticationTimeoutSeconds,
            maxConnections: maxConnections,
            limits: limits
        )
    }
}

/// A broker on one `NIOAsyncTestingEventLoop`, with the in-process backbone and no sockets.
struct BrokerHarness: Sendable {
    let loop: NIOAsyncTestingEventLoop
    let backbone: InProcessBackbone
    let broker: Broker
    let app: App

    init(app configuration: AppConfiguration = .test(), limits: Limits = Limits()) async throws {
        self.loop = NIOAsyncTestingEventLoop()
        self.backbone = InProcessBackbone()
        self.broker = Broker(
            configuration: Config(limits: limits, apps: [configuration]),
            eventLoops: [self.loop],
            backbone: self.backbone,
            logger: Logger(label: "test")
        )
        try await self.backbone.start(receiver: self.broker)
        self.app = try #require(self.broker.apps.app(key: configuration.key))
    }

    /// Opens a connection as the WebSocket handler would, and sends connection_established.
    func connect() async throws -> TestClient {
        let broker = self.broker
        let app = self.app
        let loop = self.loop
        return try await loop.executeInContext {
            let outbound = RecordingOutbound()
            let connection = try broker.shard(for: loop).assumeIsolated { shard in
                try shard.open(app: app, broker: broker, outbound: outbound, now: loop.now)
            }
            connection.assumeIsolated { $0.start() }
            return TestClient(loop: loop, app: app, connection: connection, outbound: outbound)
        }
    }

    /// Waits until `condition` holds, running the loop in between so tasks the connections
    /// started (presence joins, cache reads) make progress.
    func eventually(
        _ description: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            await self.loop.run()
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("timed out waiting for \(description)", sourceLocation: sourceLocation)
    }

    /// Lets every task already started finish (for asserting that something did not happen).
    func settle() async throws {
        for _ in 0..<20 {
            await self.loop.run()
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func shutdown() async {
        await self.backbone.shutdown()
        await self.loop.shutdownGracefully()
    }
}

/// One connection driven from the test.
struct TestClient: Sendable {
    let loop: NIOAsyncTestingEventLoop
    let app: App
    let connection: Connection
    let outbound: RecordingOutbound

    var socketID: SocketID { self.connection.socketID }

    func send(_ message: JSONValue, at now: NIODeadline? = nil) async throws {
        try await self.send(text: message.serialized, at: now)
    }

    func send(text: String, at now: NIODeadline? = nil) async throws {
        let bytes = Array(text.utf8)
        let loop = self.loop
        let connection = self.connection
        try await loop.executeInContext {
            connection.assumeIsolated { $0.receive(text: bytes, now: now ?? loop.now) }
        }
        await loop.run()
    }

    func writeCount() async throws -> Int {
        let outbound = self.outbound
        return try await self.loop.executeInContext { outbound.writeCount }
    }

    func frames() async throws -> [OutboundFrame] {
        let outbound = self.outbound
        return try await self.loop.executeInContext { outbound.frames }
    }

    func events() async throws -> [JSONValue] {
        try await self.frames().map(ServerFrame.json)
    }

    func events(named name: String) async throws -> [JSONValue] {
        try await self.events().filter { $0.eventName == name }
    }

    func closeCode() async throws -> PusherCode? {
        let outbound = self.outbound
        return try await self.loop.executeInContext { outbound.closeCode }
    }

    /// The transport reports the socket gone.
    func disconnect() async throws {
        let connection = self.connection
        try await self.loop.executeInContext { connection.assumeIsolated { $0.closed(code: 1000) } }
        await self.loop.run()
    }

    func checkActivity(at now: NIODeadline) async throws {
        let connection = self.connection
        try await self.loop.executeInContext { connection.assumeIsolated { $0.checkActivity(now: now) } }
    }

    // MARK: - Messages

    func subscribe(_ channel: String, auth: String? = nil, channelData: String? = nil) async throws {
        var data: [(key: String, value: JSONValue)] = [("channel", .string(channel))]
        if let auth { data.append(("auth", .string(auth))) }
        if let channelData { data.append(("channel_data", .string(channelData))) }
        try await self.send(.object([("event", .string("pusher:subscribe")), ("data", .object(data))]))
    }

    /// Subscribes with the signature the app's auth endpoint would give this socket.
    func subscribeSigned(_ channel: String, channelData: String? = nil) async throws {
        let auth = self.app.channelAuthorization.sign(
            socketID: self.socketID,
            channel: try ChannelName(validating: channel),
            channelData: channelData
        )
        try await self.subscribe(channel, auth: auth, channelData: channelData)
    }

    /// Joins a presence channel as `userID` and waits for subscription_succeeded or an error.
    func joinPresence(_ channel: String, userID: String, harness: BrokerHarness) async throws {
        try await self.subscribeSigned(
            channel,
            channelData: #"{"user_id":"\#(userID)","user_info":{"n":"\#(userID)"}}"#
        )
        try await harness.eventually("\(userID) answered on \(channel)") {
            try await self.events().contains {
                ($0.eventName == "pusher_internal:subscription_succeeded"
                    || $0.eventName == "pusher:subscription_error")
                    && $0["channel"] == .string(channel)
            }
        }
    }

    func unsubscribe(_ channel: String) async throws {
        try await self.send(
            .object([("event", .string("pusher:unsubscribe")), ("data", .object([("channel", .string(channel))]))])
        )
    }

    func clientEvent(_ name: String, channel: String, data: JSONValue, at now: NIODeadline? = nil) async throws {
        try await self.send(
            .object([("event", .string(name)), ("channel", .string(channel)), ("data", data)]),
            at: now
        )
    }
}

/// Replaces the hex digit at `offset` with a different one, keeping the length.
func forging(_ signature: String, at offset: Int) -> String {
    var characters = Array(signature)
    characters[offset] = characters[offset] == "0" ? "1" : "0"
    return String(characters)
}
