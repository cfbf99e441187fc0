/// The data of every benchmark event: `{"t":<ns>,"seq":<n>,"pad":"xx…"}`, padded to
/// `--size` bytes, written by the publisher and read back by the subscribers.
///
/// Both brokers carry the same bytes. NATS delivers them as written; a Pusher event's
/// `data` is a JSON string, so over the HTTP API and on the subscriber's socket the
/// quotes arrive escaped (`{\"t\":…`). Subscribers read only the digits after the `t`
/// marker: parsing each delivery fully would make the generator the bottleneck.
enum EventData {
    /// Appends the data for `sequence`, sent at `sentAt`, exactly `size` bytes long
    /// before escaping (longer only if the numbers alone exceed it).
    ///
    /// Written byte by byte: the publisher stamps `sentAt` before it builds a request,
    /// so whatever this costs is counted in every delivery's latency.
    /// - Parameter escaped: write it as the inside of a JSON string literal.
    static func append(sentAt: UInt64, sequence: Int, size: Int, escaped: Bool, to output: inout [UInt8]) {
        let quote = escaped ? Self.escapedQuote : Self.plainQuote
        let start = output.count
        output.append(UInt8(ascii: "{"))
        Self.appendKey("t", quote: quote, to: &output)
        output.append(contentsOf: String(sentAt).utf8)
        output.append(UInt8(ascii: ","))
        Self.appendKey("seq", quote: quote, to: &output)
        output.append(contentsOf: String(sequence).utf8)
        output.append(UInt8(ascii: ","))
        Self.appendKey("pad", quote: quote, to: &output)
        output.append(contentsOf: quote)
        // The size counts the data unescaped: seven quotes so far and the closing one,
        // each a backslash longer when escaped, and the closing brace.
        let unescapedLength = output.count - start - (escaped ? 7 : 0) + 2
        output.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: max(0, size - unescapedLength)))
        output.append(contentsOf: quote)
        output.append(UInt8(ascii: "}"))
    }

    private static let escapedQuote = Array(#"\""#.utf8)
    private static let plainQuote = Array(#"""#.utf8)

    /// `"key":`, with the quotes given.
    private static func appendKey(_ key: StaticString, quote: [UInt8], to output: inout [UInt8]) {
        output.append(contentsOf: quote)
        key.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(contentsOf: quote)
        output.append(UInt8(ascii: ":"))
    }

    private static let escapedMarker = Array(#"\"t\":"#.utf8)
    private static let plainMarker = Array(#""t":"#.utf8)

    /// The digits after the first `"t":` marker (`\"t\":` when `escaped`), or `nil`.
    static func timestamp(in bytes: UnsafeRawBufferPointer, escaped: Bool) -> UInt64? {
        let marker = escaped ? Self.escapedMarker : Self.plainMarker
        guard bytes.count > marker.count else { return nil }
        var index = 0
        search: while index + marker.count < bytes.count {
            for offset in 0..<marker.count where bytes[index + offset] != marker[offset] {
                index += 1
                continue search
            }
            var value: UInt64 = 0
            var digit = index + marker.count
            while digit < bytes.count, bytes[digit] >= UInt8(ascii: "0"), bytes[digit] <= UInt8(ascii: "9") {
                value = value &* 10 &+ UInt64(bytes[digit] - UInt8(ascii: "0"))
                digit += 1
            }
            return digit > index + marker.count ? value : nil
        }
        return nil
    }
}
