import NIOCore
import NIOWebSocket
import Testing
import WebSocketFraming

@Suite struct WebSocketFrameReaderTests {
    /// Everything `reader` yields for `chunks`, read in order; stops at the first failure.
    private static func frames(
        _ chunks: [ByteBuffer],
        reader: inout WebSocketFrameReader
    ) throws(WebSocketFrameReader.Failure) -> [WebSocketFrame] {
        var frames: [WebSocketFrame] = []
        for chunk in chunks {
            try reader.read(chunk) { frames.append($0); return true }
        }
        return frames
    }

    private static func frames(_ chunks: [ByteBuffer], limit: Int = 1_024) throws(WebSocketFrameReader.Failure) -> [WebSocketFrame] {
        var reader = WebSocketFrameReader(maximumPayloadBytes: limit)
        return try Self.frames(chunks, reader: &reader)
    }

    private static func text(_ frame: WebSocketFrame) -> String {
        String(decoding: frame.unmaskedData.readableBytesView, as: UTF8.self)
    }

    @Test("two frames in one read come out as two unmasked frames, in order")
    func twoFramesInOneRead() throws {
        var bytes = WireFrame.clientText("first")
        var second = WireFrame.clientText("second")
        bytes.writeBuffer(&second)
        let frames = try Self.frames([bytes])
        #expect(frames.map(Self.text) == ["first", "second"])
        #expect(frames.allSatisfy { $0.fin && $0.opcode == .text && $0.maskKey == WebSocketMaskingKey(WireFrame.mask) })
    }

    @Test("a frame arriving one byte per read is yielded once, when its last byte arrives", arguments: [5, 200, 70_000])
    func frameArrivingBytewise(length: Int) throws {
        let payload = String(repeating: "x", count: length)
        let bytes = WireFrame.clientText(payload)
        var reader = WebSocketFrameReader(maximumPayloadBytes: 100_000)
        var yielded: [String] = []
        for (offset, byte) in bytes.readableBytesView.enumerated() {
            try reader.read(ByteBuffer(bytes: [byte])) { yielded.append(Self.text($0)); return true }
            #expect(yielded.count == (offset == bytes.readableBytes - 1 ? 1 : 0))
        }
        #expect(yielded == [payload])
    }

    @Test("a frame split across reads after a whole one keeps its tail until the rest arrives")
    func tailKeptAcrossReads() throws {
        var bytes = WireFrame.clientText("whole")
        var split = WireFrame.clientText("split in two")
        bytes.writeBuffer(&split)
        let cut = bytes.readableBytes - 4
        var reader = WebSocketFrameReader(maximumPayloadBytes: 1_024)
        let first = try Self.frames([bytes.getSlice(at: 0, length: cut)!], reader: &reader)
        #expect(first.map(Self.text) == ["whole"])
        let second = try Self.frames([bytes.getSlice(at: cut, length: 4)!], reader: &reader)
        #expect(second.map(Self.text) == ["split in two"])
    }

    @Test("16- and 64-bit lengths are read", arguments: [126, 65_535, 65_536])
    func extendedLengths(length: Int) throws {
        let frames = try Self.frames([WireFrame.client(opcode: 0x2, payload: Array(repeating: 7, count: length))], limit: 70_000)
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == .binary)
        #expect(frames.first?.unmaskedData.readableBytes == length)
    }

    @Test("a frame over the limit fails as soon as its header is read, before its data")
    func oversizedFrameFailsOnHeader() {
        let header = WireFrame.clientText(String(repeating: "x", count: 2_000)).getSlice(at: 0, length: 8)!
        #expect(throws: WebSocketFrameReader.Failure.frameTooLarge) { try Self.frames([header], limit: 1_024) }
    }

    @Test("a frame of exactly the limit passes")
    func frameAtLimit() throws {
        #expect(try Self.frames([WireFrame.clientText(String(repeating: "x", count: 1_024))], limit: 1_024).count == 1)
    }

    @Test(
        "headers RFC 6455 forbids fail as protocol errors",
        arguments: [
            ("reserved bit", [0xC1, 0x80] + WireFrame.mask),
            ("control frame over 125 bytes", [0x89, 0xFE, 0x00, 0x7E]),
            ("fragmented control frame", [0x09, 0x80] + WireFrame.mask),
            ("64-bit length with its top bit set", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ] as [(String, [UInt8])]
    )
    func forbiddenHeaders(_ name: String, bytes: [UInt8]) {
        do {
            _ = try Self.frames([ByteBuffer(bytes: bytes)], limit: .max)
            Issue.record("\(name): accepted")
        } catch {
            guard case .protocolError = error else {
                Issue.record("\(name): \(error) instead of a protocol error")
                return
            }
        }
    }

    @Test("the body stopping the read drops the frames after it")
    func stopDropsTheRest() throws {
        var bytes = WireFrame.clientText("one")
        var two = WireFrame.clientText("two")
        bytes.writeBuffer(&two)
        var reader = WebSocketFrameReader(maximumPayloadBytes: 1_024)
        var seen: [String] = []
        try reader.read(bytes) { seen.append(Self.text($0)); return false }
        #expect(seen == ["one"])
    }
}
