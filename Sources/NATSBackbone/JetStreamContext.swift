import CNATS
import NIOCore

/// The connection's JetStream context, from which the key-value buckets are opened.
/// Owns the `jsCtx` pointer.
final class JetStreamContext: @unchecked Sendable {
    private let context: OpaquePointer

    /// - Parameter timeout: how long each key-value call waits for the server.
    init(connection: OpaquePointer, timeout: TimeAmount) throws(NATSError) {
        var options = jsOptions()
        jsOptions_Init(&options)
        options.Wait = max(1, timeout.nanoseconds / 1_000_000)
        var context: OpaquePointer?
        try NATSError.check(natsConnection_JetStream(&context, connection, &options), "JetStream context")
        self.context = context!
    }

    deinit {
        jsCtx_Destroy(self.context)
    }

    /// Opens `name`, creating it when absent. An existing bucket is used as it is, so
    /// nodes started with different settings do not fight over its configuration.
    /// - Parameter timeToLive: how long a value lives unless rewritten; zero keeps it.
    /// *Blocking*.
    func bucket(_ name: String, timeToLive: TimeAmount) throws(NATSError) -> KeyValueBucket {
        var store: OpaquePointer?
        var status = js_KeyValue(&store, self.context, name)
        if status == NATS_NOT_FOUND {
            var configuration = kvConfig()
            kvConfig_Init(&configuration)
            status = name.withCString { bucket in
                configuration.Bucket = bucket
                // Only the current value is ever read; compare-and-set needs no history.
                configuration.History = 1
                // libnats passes the TTL on as the stream's MaxAge, in nanoseconds.
                configuration.TTL = timeToLive.nanoseconds
                configuration.StorageType = js_FileStorage
                return js_CreateKeyValue(&store, self.context, &configuration)
            }
        }
        guard status == NATS_OK, let store else {
            // A server without JetStream has nobody listening on its API subjects.
            let hint = status == NATS_NO_RESPONDERS ? " (start nats-server with JetStream: -js)" : ""
            throw NATSError("key-value bucket \(name)\(hint)", status)
        }
        return KeyValueBucket(store: store, name: name)
    }
}
