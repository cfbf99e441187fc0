import NIOCore
import NIOWebSocket

/// A subscriber's side of the Pusher protocol (PROTOCOL.md, "WebSocket endpoint"):
/// subscribe once `connection_established` arrives, answer `pusher:ping`.
struct PusherSubscriberSession: SubscriberSession {
    static let outboundOpcode = WebSocketOpcode.text

    static func upgradePath(appKey: String) -> String {
        "/app/\(appKey)?protocol=7&client=switchboard-bench&version=1.0"
    }

    private let subscribeRequest: String

    init(channelName: String) {
        self.subscribeRequest = #"{"event":"pusher:subscribe","data":{"channel":"\#(channelName)"}}"#
    }

    func receive(_ payload: ByteBuffer, _ report: (SubscriberSignal) -> Void) {
        switch payload.withUnsafeReadableBytes({ ServerMessage($0) }) {
        case .benchmarkEvent(let sentAt): report(.delivered(sentAt: sentAt))
        case .connectionEstablished: report(.send(self.subscribeRequest))
        case .subscriptionSucceeded: report(.subscribed)
        case .ping: report(.send(#"{"event":"pusher:pong","data":{}}"#))
        case .error: report(.error)
        case .other: break
        }
    }
}
