import CNATS

/// The connection's JetStream context, from which the key-value buckets are opened.
/// Owns the `jsCtx` pointer.
final class JetStreamContext: @unchecked Sendable {
    private let context: OpaquePointer

    init(connection: OpaquePointer) throws(NATSError) {
        var context: OpaquePointer?
        try NATSError.check(natsConnection_JetStream(&context, connection, nil), "JetStream context")
        self.context = context!
    }

    deinit {
        jsCtx_Destroy(self.context)
    }

    /// Opens `name`, creating it when absent. An existing bucket is used as it is, so
    /// nodes started with different settings do not fight over its configuration.
    /// *Blocking*.
    func bucket(_ name: String, timeToLive: Int64, history: UInt8 = 1) throws(NATSError) -> KeyValueBucket {
        var store: OpaquePointer?
        var status = js_KeyValue(&store, self.context, name)
        if status == NATS_NOT_FOUND {
            var configuration = kvConfig()
            kvConfig_Init(&configuration)
            status = name.withCString { bucket in
                configuration.Bucket = bucket
                configuration.History = history
                configuration.TTL = timeToLive
                configuration.StorageType = js_FileStorage
                return js_CreateKeyValue(&store, self.context, &configuration)
            }
        }
        guard status == NATS_OK, let store else {
            throw NATSError("key-value bucket \(name) (nats-server needs JetStream: -js)", status)
        }
        return KeyValueBucket(store: store, name: name)
    }
}
