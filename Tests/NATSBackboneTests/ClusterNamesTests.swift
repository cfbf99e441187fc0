import Testing

@testable import NATSBackbone

@Suite struct ClusterNamesTests {
    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar"])
    func base64URLMatchesRFC4648Vectors(_ text: String) {
        let expected = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        #expect(Base64URL.encode(text) == expected[text])
        #expect(Base64URL.decode(Substring(expected[text]!)) == text)
    }

    @Test func everyPusherChannelCharacterBecomesOneSubjectToken() {
        // `.`, `*`, `>` would split or wildcard a NATS subject; `=`, `@`, `,`, `;` are
        // legal in Pusher names too.
        let channel = "presence-a.b*c>d=e@f,g;h_i-j#server-to-user-x"
        let subject = ClusterNames.channelSubject(app: "app 1", channel: channel)
        let tokens = subject.split(separator: ".")
        #expect(tokens.count == 4)
        #expect(tokens.allSatisfy { token in token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
        #expect(Base64URL.decode(tokens[3]) == channel)
    }

    @Test func presenceKeyRoundTrips() {
        let key = ClusterNames.channelKey(app: "1", channel: "presence-room.é")
        #expect(ClusterNames.channel(ofKey: key)! == ("1", "presence-room.é"))
    }

    @Test(arguments: ["", "abc", "a.b.c", "a!.b", "Zg.Zh"])
    func keysNotWrittenByTheBackboneAreIgnored(_ key: String) {
        #expect(ClusterNames.channel(ofKey: key) == nil)
    }
}
