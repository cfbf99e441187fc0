import PusherProtocol
import Testing

@Suite("Channel name rules")
struct ChannelNameTests {
    struct PrefixCase: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: ChannelName.Kind
        var isCache: Bool
        var requiresAuthorization: Bool
        var acceptsClientEvents: Bool
        var testDescription: String { self.name }
    }

    @Test(
        "each prefix decides the channel's kind, caching and authorization",
        arguments: [
            PrefixCase(
                name: "news",
                kind: .public,
                isCache: false,
                requiresAuthorization: false,
                acceptsClientEvents: false
            ),
            PrefixCase(
                name: "private-chat",
                kind: .private,
                isCache: false,
                requiresAuthorization: true,
                acceptsClientEvents: true
            ),
            PrefixCase(
                name: "presence-room",
                kind: .presence,
                isCache: false,
                requiresAuthorization: true,
                acceptsClientEvents: true
            ),
            PrefixCase(
                name: "private-encrypted-vault",
                kind: .privateEncrypted,
                isCache: false,
                requiresAuthorization: true,
                acceptsClientEvents: false
            ),
            PrefixCase(
                name: "cache-scores",
                kind: .public,
                isCache: true,
                requiresAuthorization: false,
                acceptsClientEvents: false
            ),
            PrefixCase(
                name: "private-cache-scores",
                kind: .private,
                isCache: true,
                requiresAuthorization: true,
                acceptsClientEvents: true
            ),
            PrefixCase(
                name: "presence-cache-lobby",
                kind: .presence,
                isCache: true,
                requiresAuthorization: true,
                acceptsClientEvents: true
            ),
            PrefixCase(
                name: "private-encrypted-cache-vault",
                kind: .privateEncrypted,
                isCache: true,
                requiresAuthorization: true,
                acceptsClientEvents: false
            ),
            // A prefix only counts at the start, and only spelled exactly.
            PrefixCase(
                name: "my-private-chat",
                kind: .public,
                isCache: false,
                requiresAuthorization: false,
                acceptsClientEvents: false
            ),
            PrefixCase(
                name: "Private-chat",
                kind: .public,
                isCache: false,
                requiresAuthorization: false,
                acceptsClientEvents: false
            ),
            PrefixCase(
                name: "cache",
                kind: .public,
                isCache: false,
                requiresAuthorization: false,
                acceptsClientEvents: false
            ),
        ]
    )
    func prefixDecidesKind(_ expected: PrefixCase) throws {
        let channel = try ChannelName(validating: expected.name)
        #expect(channel.name == expected.name)
        #expect(channel.description == expected.name)
        #expect(channel.kind == expected.kind)
        #expect(channel.isCache == expected.isCache)
        #expect(channel.requiresAuthorization == expected.requiresAuthorization)
        #expect(channel.acceptsClientEvents == expected.acceptsClientEvents)
    }

    @Test("#server-to-user-<id> names the user channel of that id")
    func userChannel() throws {
        let channel = try ChannelName(validating: "#server-to-user-42")
        #expect(channel.kind == .user(id: "42"))
        #expect(!channel.isCache)
        #expect(!channel.requiresAuthorization)
        #expect(!channel.acceptsClientEvents)
        #expect(ChannelName.user("42") == channel)
    }

    @Test("#server-to-user- without an id is refused")
    func userChannelWithoutIDIsRefused() {
        #expect(throws: ChannelNameError.invalid("#server-to-user-")) {
            try ChannelName(validating: "#server-to-user-")
        }
    }

    @Test("any other name with # is refused")
    func otherHashNamesAreRefused() {
        for name in ["#server-to-users-1", "#private-x", "news#1"] {
            #expect(throws: ChannelNameError.invalid(name)) { try ChannelName(validating: name) }
        }
    }

    @Test("164 characters are allowed, 165 are too long")
    func lengthLimit() throws {
        let longest = "private-" + String(repeating: "a", count: 156)
        #expect(longest.count == 164)
        #expect(try ChannelName(validating: longest).kind == .private)
        let tooLong = longest + "a"
        #expect(throws: ChannelNameError.tooLong(165)) { try ChannelName(validating: tooLong) }
    }

    @Test("every allowed punctuation character is accepted")
    func allowedPunctuation() throws {
        let name = "Az09_-=@,.;"
        #expect(try ChannelName(validating: name).kind == .public)
    }

    @Test(
        "characters outside [A-Za-z0-9_-=@,.;] are refused",
        arguments: [
            "with space", "slash/name", "colon:name", "star*", "quote\"", "tab\t", "naïve", "emoji😀", "new\nline",
            "percent%20",
        ]
    )
    func invalidCharactersAreRefused(name: String) {
        #expect(throws: ChannelNameError.invalid(name)) { try ChannelName(validating: name) }
    }

    @Test("the empty name is refused")
    func emptyIsRefused() {
        #expect(throws: ChannelNameError.empty) { try ChannelName(validating: "") }
    }

    @Test("length is counted in UTF-8 bytes before characters are checked")
    func lengthBeforeCharacters() {
        // 83 two-byte characters are 166 bytes: reported as too long, not as invalid.
        let name = String(repeating: "é", count: 83)
        #expect(throws: ChannelNameError.tooLong(166)) { try ChannelName(validating: name) }
    }
}
