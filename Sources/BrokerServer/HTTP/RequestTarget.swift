/// The path and query of a request URI, percent-decoded.
///
/// Query values decode `+` as a space, as `application/x-www-form-urlencoded` (and the
/// Pusher server SDKs that use it) require. Path segments keep `+` literally. Parsed as
/// bytes: splitting a `String` on characters runs grapheme breaking over every byte of
/// every API request.
struct RequestTarget: Sendable {
    /// The path exactly as sent, which is what HTTP API signatures are computed over.
    var rawPath: String
    var pathSegments: [String]
    var query: [(name: String, value: String)]

    init(_ uri: String) {
        let bytes = Array(uri.utf8)
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        let path = bytes[..<pathEnd]
        self.rawPath = String(decoding: path, as: UTF8.self)
        self.pathSegments = path.split(separator: UInt8(ascii: "/")).map { Self.decode($0, plusIsSpace: false) }
        let queryText = pathEnd < bytes.endIndex ? bytes[(pathEnd + 1)...] : []
        self.query = queryText.split(separator: UInt8(ascii: "&")).map { pair in
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = Self.decode(pair[..<equals], plusIsSpace: true)
            let value = equals < pair.endIndex ? Self.decode(pair[(equals + 1)...], plusIsSpace: true) : ""
            return (name, value)
        }
    }

    func queryValue(_ name: String) -> String? {
        self.query.last(where: { $0.name == name })?.value
    }

    /// Malformed escapes are kept as written rather than rejected: the signature check
    /// that follows refuses a request whose parameters do not match what was signed.
    static func decode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
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
