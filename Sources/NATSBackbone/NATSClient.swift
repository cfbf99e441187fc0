import BrokerConfig
import CNATS
import NIOCore
import Synchronization

/// One libnats connection: its options, its callbacks and the calls the backbone makes.
///
/// Owns the `natsConnection` and `natsOptions` pointers; nothing else frees them. Calls
/// marked *blocking* wait on the network and must run on the backbone's thread pool,
/// never on the Swift concurrency pool or an event loop.
final class NATSClient: @unchecked Sendable {
    /// What the connection reports, on libnats' own callback thread.
    struct Events: Sendable {
        var connected: @Sendable () -> Void
        var disconnected: @Sendable () -> Void
        /// A subscription's pending queue overflowed: `count` messages are gone.
        var dropped: @Sendable (_ count: Int) -> Void
    }

    /// Retained for libnats until it reports the connection closed, the last callback
    /// it ever makes for it.
    private final class CallbackContext: Sendable {
        let events: Events
        /// Each subscription's drop total at its last report, by address.
        let droppedSoFar = Mutex<[UInt: Int64]>([:])

        init(events: Events) {
            self.events = events
        }
    }

    private let connection: OpaquePointer
    private let options: OpaquePointer
    private let context: CallbackContext

    /// Connects, or keeps trying in the background when no server answers yet
    /// (libnats' retry-on-failed-connect); `events.connected` fires once it succeeds.
    /// *Blocking*: the first attempt waits for the connect timeout.
    init(configuration: NATSConfiguration, name: String, events: Events) throws(NATSError) {
        let options = try Self.makeOptions(configuration, name: name)
        let callbackContext = CallbackContext(events: events)
        let context = Unmanaged.passRetained(callbackContext).toOpaque()
        var connection: OpaquePointer?
        do throws(NATSError) {
            try NATSError.check(natsOptions_SetRetryOnFailedConnect(options, true, Self.onConnected, context), "retry on failed connect")
            try NATSError.check(natsOptions_SetReconnectedCB(options, Self.onConnected, context), "reconnected callback")
            try NATSError.check(natsOptions_SetDisconnectedCB(options, Self.onDisconnected, context), "disconnected callback")
            try NATSError.check(natsOptions_SetErrorHandler(options, Self.onError, context), "error handler")
            try NATSError.check(natsOptions_SetClosedCB(options, Self.onClosed, context), "closed callback")
            let status = natsConnection_Connect(&connection, options)
            guard status == NATS_OK || status == NATS_NOT_YET_CONNECTED, let connection else {
                throw NATSError("connect to \(configuration.urls.joined(separator: ","))", status)
            }
            if status == NATS_OK { events.connected() }
            self.connection = connection
            self.options = options
            self.context = callbackContext
        } catch {
            Unmanaged<CallbackContext>.fromOpaque(context).release()
            natsOptions_Destroy(options)
            throw error
        }
    }

    var isConnected: Bool {
        natsConnection_Status(self.connection) == NATS_CONN_STATUS_CONNECTED
    }

    /// Hands `payload` to libnats' write buffer; its flusher thread sends it.
    /// - Returns: `false` when the event was not accepted and is lost.
    func publish(_ subject: String, _ payload: ByteBuffer, reply: String? = nil) -> Bool {
        payload.withUnsafeReadableBytes { bytes in
            let count = Int32(bytes.count)
            let status = if let reply {
                natsConnection_PublishRequest(self.connection, subject, reply, bytes.baseAddress, count)
            } else {
                natsConnection_Publish(self.connection, subject, bytes.baseAddress, count)
            }
            return status == NATS_OK
        }
    }

    func subscribe(_ subject: String, handler: @escaping @Sendable (NATSMessage) -> Void) throws(NATSError) -> NATSSubscription {
        let context = self.context
        return try NATSSubscription(connection: self.connection, subject: subject, handler: handler) { subscription in
            // The pointer may be reused by a later subscription: start it from zero.
            let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(subscription)))
            _ = context.droppedSoFar.withLock { $0.removeValue(forKey: address) }
        }
    }

    func jetStream(timeout: TimeAmount) throws(NATSError) -> JetStreamContext {
        try JetStreamContext(connection: self.connection, timeout: timeout)
    }

    /// Publishes a request and collects answers until `expected` arrived or `timeout`
    /// passed. *Blocking*.
    func gather(_ subject: String, _ payload: ByteBuffer, expected: Int, timeout: TimeAmount) throws(NATSError) -> [NATSMessage] {
        var inbox: UnsafeMutablePointer<natsInbox>?
        try NATSError.check(natsInbox_Create(&inbox), "create inbox")
        defer { natsInbox_Destroy(inbox) }
        var subscription: OpaquePointer?
        try NATSError.check(natsConnection_SubscribeSync(&subscription, self.connection, inbox), "subscribe to inbox")
        defer { natsSubscription_Destroy(subscription) }
        let reply = String(cString: inbox!)
        guard self.publish(subject, payload, reply: reply) else {
            throw NATSError("publish \(subject)", natsConnection_GetLastError(self.connection, nil))
        }
        let deadline = NIODeadline.now() + timeout
        var answers: [NATSMessage] = []
        while answers.count < expected {
            let remaining = (deadline - .now()).nanoseconds / 1_000_000
            guard remaining > 0 else { break }
            var message: OpaquePointer?
            let status = natsSubscription_NextMsg(&message, subscription, remaining)
            guard status == NATS_OK, let message else { break }
            answers.append(NATSMessage(consuming: message))
        }
        return answers
    }

    /// Closes the connection; the callback context is released when libnats reports
    /// it closed.
    func close() {
        natsConnection_Close(self.connection)
    }

    deinit {
        natsConnection_Destroy(self.connection)
        natsOptions_Destroy(self.options)
    }

    // MARK: - Callbacks (libnats threads)

    private static func context(_ pointer: UnsafeMutableRawPointer?) -> CallbackContext {
        Unmanaged<CallbackContext>.fromOpaque(pointer!).takeUnretainedValue()
    }

    private static let onConnected: natsConnectionHandler = { _, closure in
        context(closure).events.connected()
    }

    private static let onDisconnected: natsConnectionHandler = { _, closure in
        context(closure).events.disconnected()
    }

    private static let onClosed: natsConnectionHandler = { _, closure in
        Unmanaged<CallbackContext>.fromOpaque(closure!).release()
    }

    /// Slow-consumer reports carry no count; the subscription's running total does.
    private static let onError: natsErrHandler = { _, subscription, status, closure in
        guard status == NATS_SLOW_CONSUMER, let subscription else { return }
        var dropped: Int64 = 0
        guard natsSubscription_GetDropped(subscription, &dropped) == NATS_OK else { return }
        let context = context(closure)
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(subscription)))
        let delta = context.droppedSoFar.withLock { seen in
            let previous = seen[address] ?? 0
            seen[address] = dropped
            return dropped - previous
        }
        if delta > 0 { context.events.dropped(Int(delta)) }
    }
}
