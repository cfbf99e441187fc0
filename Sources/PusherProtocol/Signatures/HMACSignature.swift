import Crypto
import Foundation

/// The one HMAC-SHA256 primitive every Pusher signature is built from: hex-encoded
/// MAC of a message's bytes (a string's UTF-8) under the app secret.
///
/// Verification decodes the presented hex and compares it with swift-crypto's `==`
/// between a MAC and bytes, which is constant-time, so a forged signature reveals
/// nothing about how close it came.
public struct HMACSignature: Sendable {
    /// HMAC state with the secret's inner and outer pads already hashed. Each message
    /// starts from a copy, so the key is not processed again for every signature: two
    /// SHA-256 blocks, of four or five for a signed string of a few hundred bytes, and
    /// their allocations.
    private let keyed: HMAC<SHA256>

    public init(secret: String) {
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
    }

    public func sign(_ message: String) -> String {
        self.sign(message.utf8)
    }

    public func sign(_ message: some Collection<UInt8>) -> String {
        Hex.encode(self.code(for: message))
    }

    public func isValid(signature hex: some StringProtocol, for message: String) -> Bool {
        self.isValid(signature: hex, for: message.utf8)
    }

    public func isValid(signature hex: some StringProtocol, for message: some Collection<UInt8>) -> Bool {
        guard let presented = Hex.decode(hex), presented.count == SHA256.byteCount else { return false }
        return self.code(for: message) == presented
    }

    private func code(for message: some Collection<UInt8>) -> HMAC<SHA256>.MAC {
        // Read in place when the bytes are contiguous, as arrays and native strings' UTF-8 are.
        func code(_ bytes: UnsafeRawBufferPointer) -> HMAC<SHA256>.MAC {
            var hmac = self.keyed
            hmac.update(data: bytes)
            return hmac.finalize()
        }
        return message.withContiguousStorageIfAvailable { code(UnsafeRawBufferPointer($0)) }
            ?? Array(message).withUnsafeBytes(code)
    }
}

/// Lower-case hex, the only encoding Pusher signatures and `body_md5` use.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        for byte in bytes {
            output.append(Self.digits[Int(byte >> 4)])
            output.append(Self.digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count.isMultiple(of: 2) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = Self.value(of: utf8[index]), let low = Self.value(of: utf8[index + 1]) else { return nil }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
