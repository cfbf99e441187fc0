import CNATS
import NIOCore

/// A message copied out of libnats, so the C message can be destroyed at once.
struct NATSMessage: Sendable {
    var payload: ByteBuffer
    /// Where a request wants its answer; `nil` for plain publishes.
    var reply: String?

    /// Copies `message` and destroys it: libnats hands ownership to the handler.
    init(consuming message: OpaquePointer) {
        defer { natsMsg_Destroy(message) }
        let length = Int(natsMsg_GetDataLength(message))
        var payload = ByteBufferAllocator().buffer(capacity: length)
        if length > 0, let data = natsMsg_GetData(message) {
            payload.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
        }
        self.payload = payload
        self.reply = natsMsg_GetReply(message).map { String(cString: $0) }
    }
}
