import CNATS

/// An asynchronous libnats subscription and the Swift handler it calls.
///
/// Owns the `natsSubscription` pointer. The handler box is retained for libnats until
/// the subscription's completion callback, which fires after the last message was
/// handed out, so a message in flight never finds its handler gone.
final class NATSSubscription: @unchecked Sendable {
    /// Messages a subscription may hold before libnats counts them as dropped. Raised
    /// far above libnats' defaults (65,536 messages, 64 MiB): a burst of fan-out to a
    /// busy node must be absorbed, and memory is bounded by the byte limit.
    static let pendingMessages: Int32 = 1_000_000
    static let pendingBytes: Int32 = 256 * 1024 * 1024

    private final class Handler: Sendable {
        let body: @Sendable (NATSMessage) -> Void

        init(_ body: @escaping @Sendable (NATSMessage) -> Void) {
            self.body = body
        }
    }

    private let subscription: OpaquePointer
    private let onClose: @Sendable (OpaquePointer) -> Void

    init(
        connection: OpaquePointer,
        subject: String,
        handler: @escaping @Sendable (NATSMessage) -> Void,
        onClose: @escaping @Sendable (OpaquePointer) -> Void
    ) throws(NATSError) {
        let box = Unmanaged.passRetained(Handler(handler)).toOpaque()
        var subscription: OpaquePointer?
        let status = natsConnection_Subscribe(&subscription, connection, subject, Self.onMessage, box)
        guard status == NATS_OK, let subscription else {
            Unmanaged<Handler>.fromOpaque(box).release()
            throw NATSError("subscribe \(subject)", status)
        }
        natsSubscription_SetOnCompleteCB(subscription, Self.onComplete, box)
        natsSubscription_SetPendingLimits(subscription, Self.pendingMessages, Self.pendingBytes)
        self.subscription = subscription
        self.onClose = onClose
    }

    /// Removes the interest; the handler lives on until libnats says it will not run again.
    deinit {
        natsSubscription_Unsubscribe(self.subscription)
        self.onClose(self.subscription)
        natsSubscription_Destroy(self.subscription)
    }

    private static let onMessage: natsMsgHandler = { _, _, message, closure in
        guard let message else { return }
        Unmanaged<Handler>.fromOpaque(closure!).takeUnretainedValue().body(NATSMessage(consuming: message))
    }

    private static let onComplete: natsOnCompleteCB = { closure in
        Unmanaged<Handler>.fromOpaque(closure!).release()
    }
}
