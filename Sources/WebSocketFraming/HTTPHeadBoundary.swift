/// Finds the empty line that ends an HTTP/1.1 message head (RFC 9112 §2.1) in bytes
/// that arrive a read at a time: the server waits for a whole upgrade request head, the
/// load generator for the whole `101` response.
///
/// Remembers how far it has looked, so a head dribbled in small reads is scanned once,
/// not once per read.
public struct HTTPHeadBoundary {
    private var scanned = 0

    public init() {}

    /// - Parameter bytes: everything received so far, from the start of the head.
    /// - Returns: the length of the head including its final `CRLF CRLF`, or `nil` if it
    ///   has not all arrived.
    public mutating func headLength(in bytes: UnsafeRawBufferPointer) -> Int? {
        // Only a line feed can end the head: look at each one and the three bytes before it.
        var index = max(self.scanned, 3)
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n"), bytes[index - 1] == UInt8(ascii: "\r"),
                bytes[index - 2] == UInt8(ascii: "\n"), bytes[index - 3] == UInt8(ascii: "\r")
            {
                return index + 1
            }
            index += 1
        }
        self.scanned = max(bytes.count, 3)
        return nil
    }
}
