/// What a WebSocket handshake needs from a request head (RFC 6455 §4.2.1), read
/// straight from its bytes.
///
/// Narrow on purpose: it accepts a well-formed `GET <target> HTTP/1.1` that asks for a
/// WebSocket, and nothing that would need an HTTP parser's judgement: obsolete line
/// folding, a body, a bare line feed, control characters, a second key. Every other
/// request, valid or not, goes to NIO's HTTP pipeline (llhttp), which answers it; so a
/// request this reader gets wrong is answered by the HTTP API, never misread.
struct WebSocketUpgradeRequest {
    /// The request target as sent: `/app/{key}?protocol=7&...`.
    var target: String
    var key: String
    var origin: String?
    var forwardedFor: [String] = []

    /// - Parameter head: the whole head, through the empty line that ends it.
    /// - Returns: `nil` unless the head is an RFC 6455 opening handshake for version 13.
    init?(head: UnsafeRawBufferPointer) {
        var lines = HeadLines(head)
        guard let requestLine = lines.next(), let target = Self.target(ofRequestLine: requestLine) else { return nil }
        var key: String?
        var version: String?
        var origin: String?
        var forwardedFor: [String] = []
        var upgradesToWebSocket = false
        var connectionUpgrades = false
        while let line = lines.next() {
            if line.isEmpty {
                guard lines.isAtEnd, upgradesToWebSocket, connectionUpgrades, let key, version == "13" else { return nil }
                self.target = target
                self.key = key
                self.origin = origin
                self.forwardedFor = forwardedFor
                return
            }
            guard let (name, value) = Self.field(line) else { return nil }
            switch name {
            case "upgrade":
                upgradesToWebSocket = upgradesToWebSocket || Self.list(value, contains: "websocket")
            case "connection":
                connectionUpgrades = connectionUpgrades || Self.list(value, contains: "upgrade")
            case "sec-websocket-key":
                guard key == nil else { return nil }
                key = String(decoding: value, as: UTF8.self)
            case "sec-websocket-version":
                guard version == nil else { return nil }
                version = String(decoding: value, as: UTF8.self)
            case "origin":
                guard origin == nil else { return nil }
                origin = String(decoding: value, as: UTF8.self)
            case "x-forwarded-for":
                forwardedFor.append(String(decoding: value, as: UTF8.self))
            case "content-length":
                guard value.elementsEqual("0".utf8) else { return nil }
            case "transfer-encoding":
                return nil
            default:
                continue
            }
        }
        return nil
    }

    /// `GET SP request-target SP HTTP/1.1` (RFC 9112 §3); the target is origin-form.
    private static func target(ofRequestLine line: UnsafeRawBufferPointer) -> String? {
        let method = "GET ".utf8
        let version = " HTTP/1.1".utf8
        guard line.count > method.count + version.count, line.starts(with: method),
            line[method.count] == UInt8(ascii: "/"), line[(line.count - version.count)...].elementsEqual(version)
        else { return nil }
        let target = line[method.count..<(line.count - version.count)]
        guard target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return nil }
        return String(decoding: target, as: UTF8.self)
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5), the name lowercased. `nil` for
    /// a folded line, a name that is not a token, or a control character in the value.
    private static func field(_ line: UnsafeRawBufferPointer) -> (name: String, value: Bytes)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            line[..<colon].allSatisfy(Self.isTokenCharacter)
        else { return nil }
        let value = Self.trimmed(line[(colon + 1)...])
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == UInt8(ascii: "\t") }) else { return nil }
        return (String(decoding: line[..<colon].map(Self.lowercased), as: UTF8.self), value)
    }

    /// Whether a comma-separated list (`Upgrade`, `Connection`) has `token` (lowercase),
    /// compared without case.
    private static func list(_ value: Bytes, contains token: String) -> Bool {
        value.split(separator: UInt8(ascii: ",")).contains { element in
            Self.trimmed(element).lazy.map(Self.lowercased).elementsEqual(token.utf8)
        }
    }

    private typealias Bytes = Slice<UnsafeRawBufferPointer>

    /// Without the optional whitespace (`OWS`: spaces and tabs) at either end.
    private static func trimmed(_ bytes: Bytes) -> Bytes {
        let isWhitespace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var trimmed = bytes.drop(while: isWhitespace)
        while let last = trimmed.last, isWhitespace(last) { trimmed = trimmed.dropLast() }
        return trimmed
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        UInt8(ascii: "A")...UInt8(ascii: "Z") ~= byte ? byte | 0x20 : byte
    }

    /// `tchar` (RFC 9110 §5.6.2).
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// The CRLF-terminated lines of a head. A line feed or carriage return anywhere else
/// ends the iteration early, which the reader treats as a malformed head.
private struct HeadLines {
    private let bytes: UnsafeRawBufferPointer
    private var start = 0
    private var isBroken = false

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { !self.isBroken && self.start == self.bytes.count }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard !self.isBroken, self.start < self.bytes.count else { return nil }
        var index = self.start
        while index < self.bytes.count {
            switch self.bytes[index] {
            case UInt8(ascii: "\r"):
                guard index + 1 < self.bytes.count, self.bytes[index + 1] == UInt8(ascii: "\n") else {
                    self.isBroken = true
                    return nil
                }
                let line = UnsafeRawBufferPointer(rebasing: self.bytes[self.start..<index])
                self.start = index + 2
                return line
            case UInt8(ascii: "\n"):
                self.isBroken = true
                return nil
            default:
                index += 1
            }
        }
        self.isBroken = true
        return nil
    }
}
