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
        let parameters = Dictionary(query.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        guard let key = parameters["auth_key"], let timestamp = parameters["auth_timestamp"],
            let presented = parameters["auth_signature"], parameters["auth_version"] != nil
        else { return .missingParameters }
        guard key == self.appKey else { return .unknownKey }
        guard let seconds = Double(timestamp), abs(now - seconds) <= Double(self.timestampWindowSeconds) else {
            return .staleTimestamp(windowSeconds: self.timestampWindowSeconds)
        }
        if let bodyMD5 = parameters["body_md5"] {
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
        self.signature.sign(Self.stringToSign(method, path, parameters))
    }

    public static func md5(of body: some Collection<UInt8>) -> String {
        // Hashed in place when the body is contiguous, as the server's always is.
        let digest = body.withContiguousStorageIfAvailable { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
        return Hex.encode(digest ?? Insecure.MD5.hash(data: Array(body)))
    }

    private static func stringToSign(_ method: String, _ path: String, _ parameters: [String: String]) -> String {
        let query = parameters
            .filter { $0.key != "auth_signature" }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "&")
        return "\(method.uppercased())\n\(path)\n\(query)"
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
