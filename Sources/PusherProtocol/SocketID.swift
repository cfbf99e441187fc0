/// A connection's socket id, `<number>.<number>` (PROTOCOL.md: `^\d+\.\d+$`).
///
/// Kept as two integers rather than a string so that excluding the sender from a
/// fan-out is an integer compare per subscriber, not a string compare.
public struct SocketID: Sendable, Hashable, CustomStringConvertible {
    public let major: UInt32
    public let minor: UInt64

    public init(major: UInt32, minor: UInt64) {
        self.major = major
        self.minor = minor
    }

    /// Parses the wire form; `nil` for anything but two unsigned decimal integers.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
            let major = UInt32(parts[0]), let minor = UInt64(parts[1])
        else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(self.major).\(self.minor)" }
}

/// Hands out socket ids unique within one node: a random node part chosen once and a
/// counter, so ids from different nodes of a cluster do not collide and an id never
/// repeats while the process lives.
public struct SocketIDGenerator: Sendable {
    private let major: UInt32
    private var next: UInt64

    public init(major: UInt32 = UInt32.random(in: 1...UInt32.max), start: UInt64 = UInt64.random(in: 1...1 << 40)) {
        self.major = major
        self.next = start
    }

    public mutating func make() -> SocketID {
        defer { self.next &+= 1 }
        return SocketID(major: self.major, minor: self.next)
    }
}
