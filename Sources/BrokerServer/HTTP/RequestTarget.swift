/// The path and query of a request URI, percent-decoded.
///
/// Query values decode `+` as a space, as `application/x-www-form-urlencoded` (and the
/// Pusher server SDKs that use it) require. Path segments keep `+` literally.
struct RequestTarget: Sendable {
    /// The path exactly as sent, which is what HTTP API signatures are computed over.
    var rawPath: String
    var pathSegments: [String]
    var query: [(name: String, value: String)]

    init(_ uri: String) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.rawPath = String(parts[0])
        self.pathSegments = parts[0].split(separator: "/").map { Self.decode($0, plusIsSpace: false) }
        let queryText = parts.count > 1 ? parts[1] : ""
        self.query = queryText.split(separator: "&").map { pair in
            let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(nameValue[0], plusIsSpace: true)
            let value = nameValue.count > 1 ? Self.decode(nameValue[1], plusIsSpace: true) : ""
            return (name, value)
        }
    }

    func queryValue(_ name: String) -> String? {
        self.query.last(where: { $0.name == name })?.value
    }

    /// Malformed escapes are kept as written rather than rejected: the signature check
    /// that follows refuses a request whose parameters do not match what was signed.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = Self.hexValue(bytes[index + 1]), let low = Self.hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
