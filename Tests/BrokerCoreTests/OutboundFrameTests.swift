import NIOCore
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("Outbound frames")
struct OutboundFrameTests {
    @Test("a text frame has a 2-, 4- or 10-byte header depending on its length")
    func headerLengths() {
        for (length, header) in [
            (0, [0x81, 0x00]), (125, [0x81, 125]), (126, [0x81, 126, 0x00, 126]), (65_535, [0x81, 126, 0xFF, 0xFF]),
        ] {
            var payload = ByteBufferAllocator().buffer(capacity: length)
            payload.writeRepeatingByte(UInt8(ascii: "a"), count: length)
            let frame = OutboundFrame(text: payload)
            #expect(Array(frame.buffer.readableBytesView.prefix(header.count)) == header.map { UInt8($0) })
            #expect(frame.byteCount == header.count + length)
            #expect(ServerFrame.payload(of: frame).count == length)
        }
        var large = ByteBufferAllocator().buffer(capacity: 65_536)
        large.writeRepeatingByte(UInt8(ascii: "a"), count: 65_536)
        let frame = OutboundFrame(text: large)
        #expect(Array(frame.buffer.readableBytesView.prefix(10)) == [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])
    }

    @Test("a close frame carries the code and a reason cut to the 125-byte control frame limit")
    func closeFrame() {
        let frame = OutboundFrame.close(code: 4001, reason: String(repeating: "r", count: 300))
        let bytes = Array(frame.buffer.readableBytesView)
        #expect(bytes.prefix(4) == [0x88, 125, 0x0F, 0xA1])
        #expect(bytes.count == 127)
    }

    @Test(
        "a close reason cut to fit stays valid UTF-8 (RFC 6455 §5.5.1)"
    )
    func closeReasonStaysValidUTF8() throws {
        // A reason quoting a client-supplied app key of two-byte characters crosses the cut mid-character.
        let frame = OutboundFrame.close(
            code: 4001,
            reason: "App key \(String(repeating: "é", count: 100)) does not exist"
        )
        let reason = Array(frame.buffer.readableBytesView.dropFirst(4))
        #expect(reason.count <= 123)
        #expect(String(validating: reason, as: UTF8.self) != nil)
    }
}

@Suite("Runs of frames: one buffer, held and counted as their frames")
struct FrameRunTests {
    private static func frame(_ text: String) -> OutboundFrame {
        var payload = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        payload.writeString(text)
        return OutboundFrame(text: payload)
    }

    private static func run(_ texts: String...) -> OutboundFrame {
        var run = Self.frame(texts[0])
        for text in texts.dropFirst() { run.append(Self.frame(text)) }
        return run
    }

    @Test("appended frames share one buffer and add up their counts")
    func appendedFrames() {
        let run = Self.run("first", "second")
        let separate = [Self.frame("first"), Self.frame("second")]
        #expect(Array(run.buffer.readableBytesView) == separate.flatMap { Array($0.buffer.readableBytesView) })
        #expect(run.frameCount == 2)
        #expect(run.payloadByteCount == "firstsecond".utf8.count)
    }

    @Test("a run of broadcasts counts as its frames against the hold's capacity")
    func runsCountTheirFrames() {
        let fits = PendingOutbound()
        for index in 0..<(PendingOutbound.capacity - 2) { fits.write(Self.frame("e\(index)")) }
        fits.write(Self.run("a", "b"))
        #expect(!fits.overflowed)

        let overflows = PendingOutbound()
        for index in 0..<(PendingOutbound.capacity - 1) { overflows.write(Self.frame("e\(index)")) }
        overflows.write(Self.run("a", "b"))
        #expect(overflows.overflowed)
    }
}
