import PusherProtocol
import Testing

@Suite("Presence channel_data and sign-in user_data")
struct PresenceMemberTests {
    func member(_ channelData: String) throws(PresenceDataError) -> PresenceMember {
        try PresenceMember(channelData: channelData, maximumUserIDLength: 128, maximumUserInfoBytes: 1_024)
    }

    @Test("the docs' channel_data yields user 10 with its user_info")
    func docsChannelData() throws {
        let member = try self.member(PusherDocsVector.presenceChannelData)
        #expect(member.userID == "10")
        #expect(member.userInfo == .object([("name", .string("Mr. Channels"))]))
    }

    @Test("a numeric user_id is stringified as written")
    func numericIDIsStringified() throws {
        #expect(try self.member(#"{"user_id":42}"#).userID == "42")
        #expect(try self.member(#"{"user_id":-7}"#).userID == "-7")
    }

    @Test("a string user_id is kept and user_info is optional")
    func stringID() throws {
        let member = try self.member(#"{"user_id":"alice"}"#)
        #expect(member == PresenceMember(userID: "alice", userInfo: nil))
    }

    @Test("channel_data that is not a JSON object is refused")
    func notAnObject() {
        for text in ["", "nope", "[]", #""{\"user_id\":1}""#] {
            #expect(throws: PresenceDataError.notAnObject) { try self.member(text) }
        }
    }

    @Test("a missing, null or non-scalar user_id is refused")
    func missingUserID() {
        for text in [#"{}"#, #"{"user_id":null}"#, #"{"user_id":true}"#, #"{"user_id":{}}"#, #"{"id":"1"}"#] {
            #expect(throws: PresenceDataError.missingUserID) { try self.member(text) }
        }
    }

    @Test("user_id must be 1 to 128 characters")
    func userIDLength() throws {
        #expect(throws: PresenceDataError.userIDLength(maximum: 128)) { try self.member(#"{"user_id":""}"#) }
        let longest = String(repeating: "u", count: 128)
        #expect(try self.member(#"{"user_id":"\#(longest)"}"#).userID == longest)
        #expect(throws: PresenceDataError.userIDLength(maximum: 128)) {
            try self.member(#"{"user_id":"\#(longest)u"}"#)
        }
    }

    @Test("user_info of 1024 serialized bytes is accepted, 1025 is too large")
    func userInfoSize() throws {
        // A JSON string of n characters serializes to n + 2 bytes.
        let fits = #"{"user_id":"1","user_info":"\#(String(repeating: "x", count: 1_022))"}"#
        #expect(try self.member(fits).userInfo?.serialized.utf8.count == 1_024)
        let tooLarge = #"{"user_id":"1","user_info":"\#(String(repeating: "x", count: 1_023))"}"#
        #expect(throws: PresenceDataError.userInfoTooLarge(maximum: 1_024)) { try self.member(tooLarge) }
    }

    @Test("the docs' sign-in user_data yields user 12345")
    func docsUserData() throws {
        #expect(try UserData(parsing: PusherDocsVector.userData, maximumIDLength: 128) == UserData(id: "12345"))
    }

    @Test("user_data extra fields are allowed")
    func userDataExtras() throws {
        let text = #"{"id":"u1","user_info":{"name":"A"},"watchlist":["u2"]}"#
        #expect(try UserData(parsing: text, maximumIDLength: 128).id == "u1")
    }

    @Test("user_data must be an object with a non-empty string id of at most the maximum length")
    func userDataErrors() {
        #expect(throws: UserDataError.notAnObject) { try UserData(parsing: "[]", maximumIDLength: 128) }
        #expect(throws: UserDataError.notAnObject) { try UserData(parsing: "{", maximumIDLength: 128) }
        #expect(throws: UserDataError.missingID) { try UserData(parsing: "{}", maximumIDLength: 128) }
        #expect(throws: UserDataError.missingID) { try UserData(parsing: #"{"id":""}"#, maximumIDLength: 128) }
        #expect(throws: UserDataError.missingID) { try UserData(parsing: #"{"id":12345}"#, maximumIDLength: 128) }
        #expect(throws: UserDataError.idTooLong(maximum: 3)) {
            try UserData(parsing: #"{"id":"abcd"}"#, maximumIDLength: 3)
        }
    }
}
