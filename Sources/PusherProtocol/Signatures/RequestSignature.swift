import Crypto
import Foundation

/// Verifies a signed HTTP API request (PROTOCOL.md, "HTTP API").
///
/// The signed string is `METHOD\nPATH\nsorted_query`: every query parameter but
/// `auth_signature`, keys lower-cased, sorted, joined as `k=v` with `&`, values
/// URL-decoded. `body_md5` is checked whenever it is present (the Python SDK sends it
/// on GET too) and required when there is a body.
public struct RequestSignature: Sendable {
    public let appKey: String
    public let timestampWindowSeconds: Int
    private let signature: HMACSignature

    public init(appKey: String, secret: String, timestampWindowSeconds: Int) {
        self.appKey = appKey
        self.timestampWindowSeconds = timestampWindowSeconds
        self.signature = HMACSignature(secret: secret)
    }

    /// - Parameter query: decoded parameters in request order.
    /// - Returns: `nil` when the request is authentic, otherwise why not, fit for the client.
    public func verify(
        method: String,
        path: String,
        query: [(name: String, value: String)],
        body: some Collection<UInt8>,
        now: Double
    ) -> RequestSignatureError? {
        let parameters = Self.canonical(query)
        func value(_ name: String) -> String? { parameters.first { $0.name == name }?.value }
        guard let key = value("auth_key"), let timestamp = value("auth_timestamp"),
            let presented = value("auth_signature"), value("auth_version") != nil
        else { return .missingParameters }
        guard key == self.appKey else { return .unknownKey }
        guard let seconds = Double(timestamp), abs(now - seconds) <= Double(self.timestampWindowSeconds) else {
            return .staleTimestamp(windowSeconds: self.timestampWindowSeconds)
        }
        if let bodyMD5 = value("body_md5") {
            guard bodyMD5.lowercased() == Self.md5(of: body) else { return .bodyMD5Mismatch }
        } else if !body.isEmpty {
            return .missingBodyMD5
        }
        guard self.signature.isValid(signature: presented, for: Self.stringToSign(method, path, parameters)) else {
            return .invalidSignature
        }
        return nil
    }

    /// The signature a client would send; the verifier and tests share this definition.
    public func sign(method: String, path: String, parameters: [String: String]) -> String {
        let sorted = parameters.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        return self.signature.sign(Self.stringToSign(method, path, sorted))
    }

    public static func md5(of body: some Collection<UInt8>) -> String {
        // Hashed in place when the body is contiguous, as the server's always is.
        let digest = body.withContiguousStorageIfAvailable { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
        return Hex.encode(digest ?? Insecure.MD5.hash(data: Array(body)))
    }

    /// Parameters with lower-cased names, sorted by name; of a repeated name the last
    /// one counts, as it would in a dictionary. A short array: a signed request has
    /// five or six parameters, so lookups scan it.
    private static func canonical(_ query: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var ordered = query.enumerated().map { (name: $0.element.name.lowercased(), value: $0.element.value, position: $0.offset) }
        ordered.sort { ($0.name, $0.position) < ($1.name, $1.position) }
        var parameters: [(name: String, value: String)] = []
        parameters.reserveCapacity(ordered.count)
        for parameter in ordered {
            if parameters.last?.name == parameter.name {
                parameters[parameters.count - 1].value = parameter.value
            } else {
                parameters.append((parameter.name, parameter.value))
            }
        }
        return parameters
    }

    /// `METHOD\nPATH\nk=v&k=v` over `sorted` without `auth_signature`, built in one buffer.
    private static func stringToSign(_ method: String, _ path: String, _ sorted: [(name: String, value: String)]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(
            method.utf8.count + path.utf8.count + 2 + sorted.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 }
        )
        output.append(contentsOf: method.uppercased().utf8)
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: path.utf8)
        output.append(UInt8(ascii: "\n"))
        var separator = false
        for (name, value) in sorted where name != "auth_signature" {
            if separator { output.append(UInt8(ascii: "&")) }
            separator = true
            output.append(contentsOf: name.utf8)
            output.append(UInt8(ascii: "="))
            output.append(contentsOf: value.utf8)
        }
        return output
    }
}

public enum RequestSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingParameters
    case unknownKey
    case staleTimestamp(windowSeconds: Int)
    case missingBodyMD5
    case bodyMD5Mismatch
    case invalidSignature

    public var description: String {
        switch self {
        case .missingParameters: return "auth_key, auth_timestamp, auth_version and auth_signature are required"
        case .unknownKey: return "auth_key does not belong to this app"
        case .staleTimestamp(let window):
            return "auth_timestamp is missing or more than \(window) seconds from the server's clock"
        case .missingBodyMD5: return "body_md5 is required when the request has a body"
        case .bodyMD5Mismatch: return "body_md5 does not match the request body"
        case .invalidSignature: return "invalid signature"
        }
    }
}
