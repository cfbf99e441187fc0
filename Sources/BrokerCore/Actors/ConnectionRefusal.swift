public import PusherProtocol

/// Why a socket was not admitted: the close code pusher-js acts on and a message for
/// the `pusher:error` that precedes it.
public struct ConnectionRefusal: Error, Sendable {
    public var code: PusherCode
    public var message: String

    public init(code: PusherCode, message: String) {
        self.code = code
        self.message = message
    }
}
