/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Strict because everything it reads comes from untrusted clients: no trailing commas,
/// no comments, no leading zeros, lone surrogates rejected, and a nesting limit so a
/// document of ten thousand `[` cannot exhaust the stack.
public struct JSONParser {
    /// Deep enough for any real event payload, shallow enough to keep recursion bounded.
    public static let maximumDepth = 64

    private let bytes: [UInt8]
    private var index: Int = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try self.parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw JSONError(offset: parser.index, reason: "trailing characters") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw self.error("nesting deeper than \(Self.maximumDepth)") }
        guard let byte = self.peek() else { throw self.error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"): try self.expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.parseNumber())
        default: throw self.error("unexpected character")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        self.index += 1
        var members: [(key: String, value: JSONValue)] = []
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "}") {
            self.index += 1
            return .object(members)
        }
        // Pusher's objects (an event, a member, a batch entry) have up to four members:
        // one allocation instead of three as the array grows.
        members.reserveCapacity(4)
        while true {
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string key") }
            let key = try self.parseString()
            self.skipWhitespace()
            try self.expect(UInt8(ascii: ":"))
            self.skipWhitespace()
            members.append((key, try self.parseValue(depth: depth + 1)))
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            try self.expect(UInt8(ascii: "}"))
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        self.index += 1
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "]") {
            self.index += 1
            return .array(elements)
        }
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue(depth: depth + 1))
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            try self.expect(UInt8(ascii: "]"))
            return .array(elements)
        }
    }

    /// A first pass finds the closing quote and whether the string needs unescaping or
    /// UTF-8 validation. Keys, event names and channel names are plain ASCII and become a
    /// `String` straight from the bytes; event data is JSON text inside a JSON string, so
    /// it is unescaped straight into the string's storage, which the escaped length bounds.
    private mutating func parseString() throws(JSONError) -> String {
        self.index += 1
        let start = self.index
        var hasEscapes = false
        var isASCII = true
        while let byte = self.peek(), byte != UInt8(ascii: "\"") {
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                self.index += 2
                continue
            }
            guard byte >= 0x20 else { throw self.error("control character in string") }
            if byte >= 0x80 { isASCII = false }
            self.index += 1
        }
        guard self.index < self.bytes.count else { throw self.error("unterminated string") }
        let end = self.index
        self.index += 1
        // Escapes are ASCII, so the raw text is valid UTF-8 exactly when its unescaped runs are.
        if !isASCII, String(validating: self.bytes[start..<end], as: UTF8.self) == nil {
            throw self.error("invalid UTF-8")
        }
        guard hasEscapes else { return String(decoding: self.bytes[start..<end], as: UTF8.self) }

        self.index = start
        var failure: JSONError?
        let text = String(unsafeUninitializedCapacity: end - start) { buffer in
            var count = 0
            while self.index < end {
                let byte = self.bytes[self.index]
                self.index += 1
                guard byte == UInt8(ascii: "\\") else {
                    buffer[count] = byte
                    count += 1
                    continue
                }
                let scalar: Unicode.Scalar
                do throws(JSONError) {
                    scalar = try self.parseEscape()
                } catch {
                    failure = error
                    return 0
                }
                UTF8.encode(scalar) { unit in
                    buffer[count] = unit
                    count += 1
                }
            }
            return count
        }
        if let failure { throw failure }
        self.index = end + 1
        return text
    }

    private mutating func parseEscape() throws(JSONError) -> Unicode.Scalar {
        guard let byte = self.peek() else { throw self.error("unterminated escape") }
        self.index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            var scalar = try self.parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard self.peek() == UInt8(ascii: "\\"), self.peek(offset: 1) == UInt8(ascii: "u") else {
                    throw self.error("lone surrogate")
                }
                self.index += 2
                let low = try self.parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw self.error("lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw self.error("lone surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw self.error("invalid escape") }
            return unicode
        default:
            throw self.error("invalid escape")
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw self.error("invalid \\u escape")
            }
            value = value << 4 | digit
            self.index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONError) -> String {
        let start = self.index
        if self.peek() == UInt8(ascii: "-") { self.index += 1 }
        if self.peek() == UInt8(ascii: "0") {
            self.index += 1
        } else {
            guard self.skipDigits() > 0 else { throw self.error("invalid number") }
        }
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            guard self.skipDigits() > 0 else { throw self.error("invalid number") }
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.index += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
            guard self.skipDigits() > 0 else { throw self.error("invalid number") }
        }
        return String(decoding: self.bytes[start..<self.index], as: UTF8.self)
    }

    private mutating func skipDigits() -> Int {
        let start = self.index
        while let byte = self.peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { self.index += 1 }
        return self.index - start
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONError) {
        for expected in literal.utf8 {
            guard self.peek() == expected else { throw self.error("invalid literal") }
            self.index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard self.peek() == byte else { throw self.error("expected '\(Character(Unicode.Scalar(byte)))'") }
        self.index += 1
    }

    private mutating func skipWhitespace() {
        while let byte = self.peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { self.index += 1 }
    }

    private func peek(offset: Int = 0) -> UInt8? {
        let position = self.index + offset
        return position < self.bytes.count ? self.bytes[position] : nil
    }

    private func error(_ reason: String) -> JSONError {
        JSONError(offset: self.index, reason: reason)
    }
}

/// Why a document was rejected, with the byte offset for the log line.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String { "invalid JSON at byte \(self.offset): \(self.reason)" }
}
