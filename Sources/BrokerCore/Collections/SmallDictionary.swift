/// A dictionary for maps that are nearly always tiny: a connection's subscriptions, a
/// channel's sockets on one shard.
///
/// Most connections hold one or two channels and most channels one or two sockets, and
/// a Swift `Dictionary` with one entry is a 264-byte allocation: per idle connection,
/// 6% of its memory. The entries live in an array searched linearly, which for a handful
/// of keys is as fast as hashing; above ``indexedCount`` entries a hash index of
/// positions is kept beside them, so a 10,000-socket channel still finds one in O(1).
/// Removal moves the last entry into the gap: order is not kept.
struct SmallDictionary<Key: Hashable, Value> {
    /// Dense storage, for loops over every entry (a room's broadcast).
    private(set) var entries: ContiguousArray<(key: Key, value: Value)> = []
    /// Positions in `entries`, kept only above ``indexedCount`` entries.
    private var positions: [Key: Int] = [:]
    static var indexedCount: Int { 16 }

    var count: Int { self.entries.count }
    var isEmpty: Bool { self.entries.isEmpty }

    subscript(key: Key) -> Value? {
        get { self.position(of: key).map { self.entries[$0].value } }
        set {
            if let newValue {
                self.updateValue(newValue, forKey: key)
            } else {
                self.removeValue(forKey: key)
            }
        }
    }

    /// - Returns: the value replaced, or `nil` when the key is new.
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        if let position = self.position(of: key) {
            defer { self.entries[position].value = value }
            return self.entries[position].value
        }
        self.entries.append((key, value))
        if self.entries.count > Self.indexedCount {
            if self.positions.isEmpty {
                for (position, entry) in self.entries.enumerated() { self.positions[entry.key] = position }
            } else {
                self.positions[key] = self.entries.count - 1
            }
        }
        return nil
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let position = self.position(of: key) else { return nil }
        let removed = self.entries[position].value
        let last = self.entries.removeLast()
        if position < self.entries.count {
            self.entries[position] = last
        }
        if self.entries.count <= Self.indexedCount {
            self.positions = [:]
        } else {
            self.positions[key] = nil
            if position < self.entries.count { self.positions[last.key] = position }
        }
        return removed
    }

    mutating func removeAll() {
        self.entries = []
        self.positions = [:]
    }

    private func position(of key: Key) -> Int? {
        guard self.entries.count > Self.indexedCount else {
            return self.entries.firstIndex { $0.key == key }
        }
        return self.positions[key]
    }
}

extension SmallDictionary: Sequence {
    func makeIterator() -> ContiguousArray<(key: Key, value: Value)>.Iterator {
        self.entries.makeIterator()
    }
}
