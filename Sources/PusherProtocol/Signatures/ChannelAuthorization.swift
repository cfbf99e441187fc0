/// Checks the `auth` a client presents for a private or presence channel, or for
/// `pusher:signin` (PROTOCOL.md, "Channels" and "User authentication").
///
/// `auth` is `<app key>:<hex hmac>`. The strings signed are fixed by the Pusher SDKs:
/// `socket_id:channel` (private), `socket_id:channel:channel_data` (presence) and
/// `socket_id::user::user_data` (sign-in).
public struct ChannelAuthorization: Sendable {
    public let appKey: String
    private let signature: HMACSignature

    public init(appKey: String, secret: String) {
        self.appKey = appKey
        self.signature = HMACSignature(secret: secret)
    }

    public func isValid(auth: String, socketID: SocketID, channel: ChannelName, channelData: String?) -> Bool {
        let message: String
        if case .presence = channel.kind {
            guard let channelData else { return false }
            message = "\(socketID):\(channel.name):\(channelData)"
        } else {
            message = "\(socketID):\(channel.name)"
        }
        return self.isValid(auth: auth, message: message)
    }

    public func isValid(auth: String, socketID: SocketID, userData: String) -> Bool {
        self.isValid(auth: auth, message: "\(socketID)::user::\(userData)")
    }

    /// What an app server's auth endpoint would answer; used by tests and tooling.
    public func sign(socketID: SocketID, channel: ChannelName, channelData: String? = nil) -> String {
        let suffix = channelData.map { ":\($0)" } ?? ""
        return "\(self.appKey):\(self.signature.sign("\(socketID):\(channel.name)\(suffix)"))"
    }

    public func sign(socketID: SocketID, userData: String) -> String {
        "\(self.appKey):\(self.signature.sign("\(socketID)::user::\(userData)"))"
    }

    private func isValid(auth: String, message: String) -> Bool {
        guard let colon = auth.firstIndex(of: ":") else { return false }
        // The key is public; comparing it early leaks nothing. The MAC check is constant-time.
        guard auth[..<colon] == self.appKey else { return false }
        return self.signature.isValid(signature: auth[auth.index(after: colon)...], for: message)
    }
}
