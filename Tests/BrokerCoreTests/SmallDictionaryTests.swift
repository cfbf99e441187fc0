@testable import BrokerCore
import Testing

@Suite struct SmallDictionaryTests {
    /// Mirrors every operation on a `Dictionary` and compares after each step.
    private struct Model {
        var small = SmallDictionary<Int, String>()
        var reference: [Int: String] = [:]

        mutating func set(_ key: Int, _ value: String?) {
            self.small[key] = value
            self.reference[key] = value
        }

        mutating func remove(_ key: Int) -> Bool {
            let removed = self.small.removeValue(forKey: key)
            #expect(removed == self.reference.removeValue(forKey: key))
            return removed != nil
        }

        func matches() -> Bool {
            self.small.count == self.reference.count
                && self.reference.allSatisfy { self.small[$0.key] == $0.value }
                && Dictionary(uniqueKeysWithValues: self.small.map { ($0.key, $0.value) }) == self.reference
        }
    }

    @Test("below the indexed size and above it, lookups, updates and removals agree with Dictionary")
    func agreesWithDictionaryAcrossTheThreshold() {
        var model = Model()
        let size = SmallDictionary<Int, String>.indexedCount * 2
        for key in 0..<size {
            model.set(key, "v\(key)")
            #expect(model.matches(), "after adding \(key)")
        }
        let replaced = model.small.updateValue("again", forKey: 3)
        #expect(replaced == "v3")
        model.reference[3] = "again"
        // Remove from the front, so each removal moves the last entry, and cross the
        // threshold on the way down.
        for key in 0..<(size - 2) {
            let removed = model.remove(key)
            let removedAgain = model.remove(key)
            #expect(removed && !removedAgain)
            #expect(model.matches(), "after removing \(key)")
        }
        model.set(size - 1, nil)
        #expect(model.matches())
        model.small.removeAll()
        #expect(model.small.isEmpty && model.small[size - 2] == nil)
    }

    @Test("an absent key reads as nil and removing it changes nothing")
    func absentKey() {
        var small = SmallDictionary<String, Int>()
        #expect(small["x"] == nil)
        let removedFromEmpty = small.removeValue(forKey: "x")
        small["a"] = 1
        let removedAbsent = small.removeValue(forKey: "x")
        #expect(removedFromEmpty == nil && removedAbsent == nil)
        #expect(small.count == 1 && small["a"] == 1)
    }
}
