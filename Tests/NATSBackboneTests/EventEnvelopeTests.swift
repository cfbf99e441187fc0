import Backbone
import NIOCore
import PusherProtocol
import Testing

@testable import NATSBackbone

@Suite struct EventEnvelopeTests {
    @Test func carriesExclusionCacheFlagAndPayloadUnchanged() throws {
        let payload = ByteBuffer(string: #"{"event":"e","channel":"cache-x","data":"{\"n\":1.50}"}"#)
        let event = BackboneEvent(
            app: "1", channel: "cache-x", payload: payload, excludedSocket: SocketID(major: 12, minor: 34), isCached: true
        )
        let decoded = try #require(EventEnvelope.decode(EventEnvelope.encode(event), app: "1", channel: "cache-x"))
        #expect(decoded.payload == payload)
        #expect(decoded.excludedSocket == SocketID(major: 12, minor: 34))
        #expect(decoded.isCached)
        #expect(decoded.app == "1" && decoded.channel == "cache-x")
    }

    @Test func carriesTheRosterRevisionOfAnAnnouncement() throws {
        let event = BackboneEvent(
            app: "1", channel: "presence-x", payload: ByteBuffer(string: "{}"), excludedSocket: SocketID(major: 1, minor: 2),
            isCached: false, presenceRevision: 1 << 40 + 7
        )
        let decoded = try #require(EventEnvelope.decode(EventEnvelope.encode(event), app: "1", channel: "presence-x"))
        #expect(decoded.presenceRevision == 1 << 40 + 7)
        #expect(decoded.excludedSocket == SocketID(major: 1, minor: 2))
        #expect(decoded.payload == ByteBuffer(string: "{}"))
    }

    @Test func noExclusionDecodesAsNil() throws {
        let event = BackboneEvent(app: "1", channel: "c", payload: ByteBuffer(string: "{}"), excludedSocket: nil, isCached: false)
        let decoded = try #require(EventEnvelope.decode(EventEnvelope.encode(event), app: "1", channel: "c"))
        #expect(decoded.excludedSocket == nil)
        #expect(decoded.presenceRevision == nil)
        #expect(!decoded.isCached)
    }

    @Test(arguments: [[UInt8](), [2, 0, 0], [1, 0, 5, 0x31], [1, 0, 3, 0x61, 0x62, 0x63]])
    func foreignBytesAreRejected(_ bytes: [UInt8]) {
        #expect(EventEnvelope.decode(ByteBuffer(bytes: bytes), app: "1", channel: "c") == nil)
    }
}
