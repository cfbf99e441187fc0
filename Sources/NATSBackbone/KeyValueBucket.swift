import CNATS
import NIOCore

/// One JetStream key-value bucket. Owns the `kvStore` pointer. Every call is
/// *blocking* (a request to the server) and runs on the backbone's thread pool.
final class KeyValueBucket: @unchecked Sendable {
    struct Entry {
        var value: [UInt8]
        var revision: UInt64
        /// When the value was written, in nanoseconds since 1970.
        var created: Int64
    }

    /// Why a conditional write did not happen.
    enum WriteError: Error {
        /// Someone else wrote first: read again and retry.
        case conflict
        case failed(NATSError)
    }

    let name: String
    private let store: OpaquePointer

    init(store: OpaquePointer, name: String) {
        self.store = store
        self.name = name
    }

    deinit {
        kvStore_Destroy(self.store)
    }

    /// The current value of `key`, or `nil` when absent or deleted.
    func get(_ key: String) throws(NATSError) -> Entry? {
        var entry: OpaquePointer?
        let status = kvStore_Get(&entry, self.store, key)
        if status == NATS_NOT_FOUND { return nil }
        try NATSError.check(status, "get \(self.name)/\(key)")
        defer { kvEntry_Destroy(entry) }
        let length = Int(kvEntry_ValueLen(entry))
        let value = kvEntry_Value(entry).map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        return Entry(value: value, revision: kvEntry_Revision(entry), created: kvEntry_Created(entry))
    }

    /// Writes `value` only if `key` is still at `revision` (0: only if absent).
    /// - Returns: the key's revision after the write.
    func write(_ key: String, _ value: [UInt8], ifRevision revision: UInt64) throws(WriteError) -> UInt64 {
        var written: UInt64 = 0
        let status = value.withUnsafeBytes { bytes in
            revision == 0
                ? kvStore_Create(&written, self.store, key, bytes.baseAddress, Int32(bytes.count))
                : kvStore_Update(&written, self.store, key, bytes.baseAddress, Int32(bytes.count), revision)
        }
        guard status != NATS_OK else { return written }
        let error = NATSError("write \(self.name)/\(key)", status)
        // JetStream answers a lost race with "wrong last sequence"; libnats passes on
        // only its text.
        throw error.detail.contains("wrong last sequence") ? .conflict : .failed(error)
    }

    func put(_ key: String, _ value: [UInt8]) throws(NATSError) {
        var written: UInt64 = 0
        let status = value.withUnsafeBytes { bytes in
            kvStore_Put(&written, self.store, key, bytes.baseAddress, Int32(bytes.count))
        }
        try NATSError.check(status, "put \(self.name)/\(key)")
    }

    func delete(_ key: String) throws(NATSError) {
        try NATSError.check(kvStore_Delete(self.store, key), "delete \(self.name)/\(key)")
    }

    /// Every key with a current value.
    func keys() throws(NATSError) -> [String] {
        var list = kvKeysList()
        let status = kvStore_Keys(&list, self.store, nil)
        if status == NATS_NOT_FOUND { return [] }
        try NATSError.check(status, "keys of \(self.name)")
        defer { kvKeysList_Destroy(&list) }
        return (0..<Int(list.Count)).compactMap { list.Keys[$0].map { String(cString: $0) } }
    }
}
