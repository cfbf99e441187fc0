import Testing

@testable import BrokerServer

@Suite("Request target decoding")
struct RequestTargetTests {
    @Test("the path is split into decoded segments and kept raw for signatures")
    func path() {
        let target = RequestTarget("/apps/3/channels/presence%2Droom?x=1")
        #expect(target.rawPath == "/apps/3/channels/presence%2Droom")
        #expect(target.pathSegments == ["apps", "3", "channels", "presence-room"])
    }

    @Test("+ in the query is a space, in the path it is a plus")
    func plus() {
        let target = RequestTarget("/apps/a+b/events?name=hello+world&info=user_count%2Bx")
        #expect(target.pathSegments == ["apps", "a+b", "events"])
        #expect(target.queryValue("name") == "hello world")
        #expect(target.queryValue("info") == "user_count+x")
    }

    @Test("percent escapes in query names and values are decoded")
    func percentEscapes() {
        let target = RequestTarget("/apps/1/channels?filter_by_prefix=%23server&na%6De=caf%C3%A9")
        #expect(target.queryValue("filter_by_prefix") == "#server")
        #expect(target.queryValue("name") == "café")
    }

    @Test("query order is kept, a value may contain =, a bare name has an empty value, the last duplicate wins")
    func queryShapes() {
        let target = RequestTarget("/x?b=2&a=1=one&flag&&b=3")
        #expect(target.query.map(\.name) == ["b", "a", "flag", "b"])
        #expect(target.queryValue("a") == "1=one")
        #expect(target.queryValue("flag") == "")
        #expect(target.queryValue("b") == "3")
    }

    @Test("a URI without a query has no parameters")
    func noQuery() {
        #expect(RequestTarget("/apps/1/events").query.isEmpty)
        #expect(RequestTarget("/apps/1/events?").query.isEmpty)
    }

    @Test("malformed escapes are kept as written", arguments: ["%", "%2", "%zz", "100%", "%G0"])
    func malformedEscapesAreKept(text: String) {
        #expect(RequestTarget.decode(ArraySlice(text.utf8), plusIsSpace: false) == text)
    }

    @Test(
        "an escape with a sign is malformed and kept as written",
        arguments: ["%+1", "%-0", "%+f"]
    )
    func signedEscapesAreKept(text: String) {
        #expect(RequestTarget.decode(ArraySlice(text.utf8), plusIsSpace: false) == text)
    }
}
