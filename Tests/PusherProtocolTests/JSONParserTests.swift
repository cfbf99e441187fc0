import PusherProtocol
import Testing

@Suite("JSON parsing and serialization")
struct JSONParserTests {
    @Test(
        "compact documents round-trip byte for byte, keeping key order and number text",
        arguments: [
            #"{"b":1,"a":2,"c":3}"#,
            #"{"z":{"y":[1.50,-0,2e10,1E-5,0.0e+0,-12.340]},"a":null,"m":true,"n":false}"#,
            #"[]"#,
            #"{}"#,
            #"[[],{},"",0]"#,
            #""plain""#,
            #"123456789012345678901234567890"#,
            #"{"dup":1,"dup":2}"#,
        ]
    )
    func roundTrip(text: String) throws {
        #expect(try JSONParser.parse(text).serialized == text)
    }

    @Test("whitespace between tokens is dropped by the serializer")
    func whitespaceIsDropped() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\n\"b\" : \"x y\" } \n")
        #expect(value.serialized == #"{"a":[1,2],"b":"x y"}"#)
    }

    @Test("a duplicate key keeps its last value on lookup")
    func duplicateKeyLastWins() throws {
        let value = try JSONParser.parse(#"{"id":"first","id":"second"}"#)
        #expect(value["id"] == .string("second"))
    }

    @Test("string escapes decode to the characters they name")
    func escapesDecode() throws {
        let value = try JSONParser.parse(#""q\"b\\s\/b\bf\fn\nr\rt\tu\u0041\u00e9\u20ac""#)
        #expect(value == .string("q\"b\\s/b\u{08}f\u{0C}n\nr\rt\tuAé€"))
    }

    @Test("a surrogate pair decodes to one scalar outside the BMP")
    func surrogatePairDecodes() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == .string("𝄞"))
    }

    @Test("raw UTF-8 in strings is kept as written")
    func rawUTF8IsKept() throws {
        let text = #"{"name":"Zoë 😀 日本"}"#
        let value = try JSONParser.parse(text)
        #expect(value["name"] == .string("Zoë 😀 日本"))
        #expect(value.serialized == text)
    }

    @Test("the serializer escapes quotes, backslashes and control characters")
    func serializerEscapes() {
        let value = JSONValue.string("a\"b\\c\nd\re\tf\u{01}g\u{1F}h/i\u{7F}")
        #expect(value.serialized == #""a\"b\\c\nd\re\tf\u0001g\u001fh/i"# + "\u{7F}\"")
        #expect(JSONString.quoted("\u{08}\u{0C}\u{00}") == #""\u0008\u000c\u0000""#)
    }

    @Test("escaped strings survive serialize then parse unchanged")
    func escapedStringsRoundTrip() throws {
        let original = JSONValue.object([
            ("k\"ey", .string("line\nbreak \u{00} nul, tab\t, emoji 😀, quote \" and \\"))
        ])
        #expect(try JSONParser.parse(original.serialized) == original)
    }

    @Test(
        "malformed documents are refused",
        arguments: [
            "", " ", "[1,]", #"{"a":1,}"#, "[,1]", #"{,}"#, #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "{'a':1}", "[1 2]",
            "01", "-01", "00", "1.", ".5", "+1", "-", "1e", "1e+", "1.e3", "0x10", "NaN", "Infinity", "-Infinity",
            "tru", "nul", "True", "[1]]", "{}}", "{} x", "1 2", "truex", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
            "// comment\n1", "[1,/*c*/2]",
        ]
    )
    func malformedIsRefused(text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test(
        "lone surrogates are refused",
        arguments: [#""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ud83dx""#, #""\ud83d\ud83d""#, #""a\udfffb""#]
    )
    func loneSurrogatesAreRefused(text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("unescaped control characters inside strings are refused")
    func controlCharactersAreRefused() {
        for byte in [UInt8(0x00), 0x01, 0x09, 0x0A, 0x0D, 0x1F] {
            let bytes = [UInt8(ascii: "\""), UInt8(ascii: "a"), byte, UInt8(ascii: "b"), UInt8(ascii: "\"")]
            #expect(throws: JSONError.self) { try JSONParser.parse(bytes: bytes) }
            // Also after an escape, where the slow path scans the rest of the string.
            let afterEscape = [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), byte, UInt8(ascii: "\"")]
            #expect(throws: JSONError.self) { try JSONParser.parse(bytes: afterEscape) }
        }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONError.self) { try JSONParser.parse(bytes: bytes) }
        }
    }

    @Test("64 levels of nesting are accepted, 65 are refused")
    func depthLimit() throws {
        #expect(JSONParser.maximumDepth == 64)
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try JSONParser.parse(deepest).serialized == deepest)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONError.self) { try JSONParser.parse(tooDeep) }
        let tooDeepObjects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONError.self) { try JSONParser.parse(tooDeepObjects) }
    }

    @Test("ten thousand open brackets are refused without exhausting the stack")
    func hostileNestingIsRefused() {
        #expect(throws: JSONError.self) { try JSONParser.parse(String(repeating: "[", count: 10_000)) }
    }

    @Test("the error names the offset of trailing garbage")
    func trailingGarbageOffset() {
        let error = #expect(throws: JSONError.self) { try JSONParser.parse("{} x") }
        #expect(error?.offset == 3)
        #expect(error?.reason == "trailing characters")
    }
}
