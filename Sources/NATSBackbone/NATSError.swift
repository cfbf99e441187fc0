import CNATS

/// A libnats call that did not return `NATS_OK`, with the library's own explanation.
struct NATSError: Error, CustomStringConvertible, Sendable {
    let operation: String
    let status: natsStatus
    let detail: String

    init(_ operation: String, _ status: natsStatus) {
        self.operation = operation
        self.status = status
        // The thread-local last error carries specifics (which server, which bucket).
        self.detail = nats_GetLastError(nil).map { String(cString: $0) } ?? ""
    }

    var description: String {
        let text = String(cString: natsStatus_GetText(self.status))
        return self.detail.isEmpty || self.detail == text
            ? "\(self.operation): \(text)" : "\(self.operation): \(text) (\(self.detail))"
    }

    /// Throws unless `status` is `NATS_OK`.
    static func check(_ status: natsStatus, _ operation: @autoclosure () -> String) throws(NATSError) {
        guard status == NATS_OK else { throw NATSError(operation(), status) }
    }
}
