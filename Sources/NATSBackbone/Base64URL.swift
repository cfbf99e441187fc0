/// Unpadded base64url (RFC 4648 §5): turns any app id or channel name into one NATS
/// subject token and one key-value key token. Its alphabet has no `.`, `*`, `>` or
/// space, so every valid Pusher name maps to a valid token and back.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { values[Int(byte)] = UInt8(index) }
        return values
    }()

    static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = min(3, bytes.count - index)
            var group: UInt32 = 0
            for offset in 0..<3 {
                group <<= 8
                if offset < chunk { group |= UInt32(bytes[index + offset]) }
            }
            for position in 0...chunk {
                output.append(self.alphabet[Int((group >> (18 - 6 * UInt32(position))) & 0x3F)])
            }
            index += chunk
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The text `token` encodes, or `nil` when it is not unpadded base64url of UTF-8.
    static func decode(_ token: Substring) -> String? {
        var output: [UInt8] = []
        var group: UInt32 = 0
        var bits = 0
        for byte in token.utf8 {
            let value = self.values[Int(byte)]
            guard value != 0xFF else { return nil }
            group = (group << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((group >> UInt32(bits)) & 0xFF))
            }
        }
        // Leftover bits must be zero padding, never a sixth of a character.
        guard bits < 6, group & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return String(validating: output, as: UTF8.self)
    }
}
