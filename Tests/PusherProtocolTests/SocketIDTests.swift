import PusherProtocol
import Testing

@Suite("Socket ids")
struct SocketIDTests {
    @Test("the wire form parses into its two numbers and prints back unchanged")
    func parseAndFormat() throws {
        let id = try #require(SocketID("123.456"))
        #expect(id == SocketID(major: 123, minor: 456))
        #expect(id.description == "123.456")
        let largest = try #require(SocketID("4294967295.18446744073709551615"))
        #expect(largest == SocketID(major: .max, minor: .max))
        #expect(largest.description == "4294967295.18446744073709551615")
    }

    @Test(
        "anything but two unsigned decimal integers is refused",
        arguments: [
            "", "123", "123.", ".456", "1.2.3", "a.b", "-1.2", "1.-2", "+1.2", " 1.2", "1.2 ", "1,2", "0x1.2", "1..2",
            "4294967296.1",  // major above UInt32.max
            "1.18446744073709551616",  // minor above UInt64.max
            "١.٢",  // Arabic-Indic digits are not ASCII digits
        ]
    )
    func malformedIsRefused(text: String) {
        #expect(SocketID(text) == nil)
    }

    @Test("generated ids are unique and match ^\\d+\\.\\d+$")
    func generatorIsUniqueAndWellFormed() throws {
        var generator = SocketIDGenerator()
        var seen = Set<SocketID>()
        let shape = try Regex(#"^[0-9]+\.[0-9]+$"#)
        for _ in 0..<10_000 {
            let id = generator.make()
            #expect(seen.insert(id).inserted)
            #expect(id.description.wholeMatch(of: shape) != nil)
            #expect(SocketID(id.description) == id)
        }
        #expect(seen.count == 10_000)
    }

    @Test("two generators with different node parts never collide")
    func generatorsOfDifferentNodesDoNotCollide() {
        var first = SocketIDGenerator(major: 1, start: 1)
        var second = SocketIDGenerator(major: 2, start: 1)
        let a = (0..<100).map { _ in first.make() }
        let b = (0..<100).map { _ in second.make() }
        #expect(Set(a).isDisjoint(with: b))
        #expect(a.first == SocketID(major: 1, minor: 1))
        #expect(a.last == SocketID(major: 1, minor: 100))
    }
}
