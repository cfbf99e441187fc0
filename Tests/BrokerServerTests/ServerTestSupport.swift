import Backbone
import BrokerConfig
import BrokerCore
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import PusherProtocol
import Testing

@testable import BrokerServer

/// The apps every server test runs with: one enabled, one disabled.
enum TestApps {
    static let enabled = AppConfiguration(id: "1", key: "app-key", secret: "app-secret", clientEvents: true)
    static let disabled = AppConfiguration(id: "2", key: "disabled-key", secret: "disabled-secret", enabled: false)
}

/// A broker on a `NIOAsyncTestingEventLoop` (the embedded loop cannot be a shard's executor).
struct ServerHarness: Sendable {
    let loop: NIOAsyncTestingEventLoop
    let backbone: InProcessBackbone
    let broker: Broker

    init(apps: [AppConfiguration] = [TestApps.enabled, TestApps.disabled], limits: Limits = Limits()) async throws {
        self.loop = NIOAsyncTestingEventLoop()
        self.backbone = InProcessBackbone()
        self.broker = Broker(
            configuration: Config(limits: limits, apps: apps),
            eventLoops: [self.loop],
            backbone: self.backbone,
            logger: Logger(label: "test")
        )
        try await self.backbone.start(receiver: self.broker)
    }

    /// A connected channel whose pipeline is what the upgrader installs: the Pusher
    /// handler alone.
    func socket(
        appKey: String = "app-key",
        protocolVersion: String? = "7",
        maximumMessageBytes: Int = 1_024
    ) async throws -> NIOAsyncTestingChannel {
        let broker = self.broker
        let channel = try await NIOAsyncTestingChannel(loop: self.loop) { _ in }
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).get()
        try await self.loop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                PusherSocketHandler(
                    broker: broker,
                    appKey: appKey,
                    protocolVersion: protocolVersion,
                    clientAddress: "127.0.0.1",
                    maximumMessageBytes: maximumMessageBytes
                )
            )
        }
        return channel
    }

    func shutdown() async {
        await self.backbone.shutdown()
        await self.loop.shutdownGracefully()
    }
}

/// Frames as a client writes them and as the server must write them (RFC 6455 §5.2).
enum WireFrame {
    static let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    /// A masked client frame.
    static func client(opcode: UInt8, fin: Bool = true, payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger((fin ? 0x80 : 0x00) | opcode)
        switch payload.count {
        case 0..<126:
            buffer.writeInteger(UInt8(0x80 | payload.count))
        case 126...0xFFFF:
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(payload.count))
        default:
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(Self.mask)
        buffer.writeBytes(payload.enumerated().map { $0.element ^ Self.mask[$0.offset % 4] })
        return buffer
    }

    static func clientText(_ text: String, fin: Bool = true) -> ByteBuffer {
        self.client(opcode: 0x1, fin: fin, payload: Array(text.utf8))
    }

    /// An unmasked final server text frame of a short payload.
    static func serverText(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        precondition(payload.count < 126)
        return [0x81, UInt8(payload.count)] + payload
    }

    /// A server close frame: code then reason.
    static func serverClose(code: UInt16, reason: String) -> [UInt8] {
        let reason = Array(reason.utf8)
        return [0x88, UInt8(2 + reason.count), UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }
}

extension NIOAsyncTestingChannel {
    /// The next frame the server wrote, as bytes.
    func nextWrittenBytes(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [UInt8] {
        let buffer = try #require(try await self.readOutbound(as: ByteBuffer.self), sourceLocation: sourceLocation)
        return Array(buffer.readableBytesView)
    }

    /// The payload of the next text frame the server wrote, parsed.
    func nextWrittenEvent(sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let bytes = try await self.nextWrittenBytes(sourceLocation: sourceLocation)
        #expect(bytes.first == 0x81, "a final text frame", sourceLocation: sourceLocation)
        let offset: Int
        switch bytes[1] & 0x7F {
        case 126: offset = 4
        case 127: offset = 10
        default: offset = 2
        }
        return try JSONParser.parse(bytes: Array(bytes[offset...]))
    }
}
