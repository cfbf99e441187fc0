/// A parsed JSON document that keeps what Pusher clients can observe: object key order
/// and the exact text of numbers.
///
/// Client events are relayed with the `data` the sender wrote, so the broker must not
/// reorder keys or turn `1.50` into `1.5` on the way through (PROTOCOL.md, "client
/// events ... carry the data ... exactly as published"). Foundation's JSON types do both.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, already checked against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a duplicate key keeps its last value on lookup.
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value of `key` when this is an object (last occurrence wins, as in JavaScript).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
