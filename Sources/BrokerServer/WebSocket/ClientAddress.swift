import BrokerConfig

/// The address a client is logged under: the TCP peer, or, when that peer is a trusted
/// proxy, the nearest untrusted hop of `X-Forwarded-For`.
///
/// Read right to left because each proxy appends the address it received from; every
/// hop left of the first untrusted one could have been written by the client itself.
enum ClientAddress {
    static func resolve(peer: String?, forwardedFor headers: [String], trusted: [IPAddressRange]) -> String? {
        guard let peer, Self.isTrusted(peer, trusted) else { return peer }
        let hops = headers.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace() }
        return hops.reversed().first { !Self.isTrusted($0, trusted) } ?? hops.first ?? peer
    }

    private static func isTrusted(_ address: String, _ trusted: [IPAddressRange]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
