import PusherProtocol
import Testing

/// The worked examples of Pusher's "Generating authentication and authorization strings"
/// page (https://pusher.com/docs/channels/library_auth_reference/auth-signatures/).
/// Each expected value below is quoted from that page and was re-derived independently with
/// `python3 -c 'import hmac,hashlib; print(hmac.new(b"7ad3773142a6692b25b8", MSG, hashlib.sha256).hexdigest())'`.
enum PusherDocsVector {
    static let key = "278d425bdf160c739803"
    static let secret = "7ad3773142a6692b25b8"
    static let socketID = SocketID(major: 1234, minor: 1234)

    /// Signs `1234.1234:private-foobar`.
    static let privateSignature = "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"

    static let presenceChannelData = #"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#
    /// Signs `1234.1234:presence-foobar:{"user_id":10,"user_info":{"name":"Mr. Channels"}}`.
    static let presenceSignature = "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"

    static let userData = #"{"id":"12345"}"#
    /// Signs `1234.1234::user::{"id":"12345"}` (section "User authentication").
    static let userSignature = "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
}

/// Replaces the hex digit at `offset` with a different one, keeping the length.
func forging(_ signature: String, at offset: Int = 10) -> String {
    var characters = Array(signature)
    characters[offset] = characters[offset] == "0" ? "1" : "0"
    return String(characters)
}

@Suite("Channel and user authorization signatures")
struct ChannelAuthorizationTests {
    let authorization = ChannelAuthorization(appKey: PusherDocsVector.key, secret: PusherDocsVector.secret)
    let privateChannel = try! ChannelName(validating: "private-foobar")
    let presenceChannel = try! ChannelName(validating: "presence-foobar")

    @Test("the private channel worked example from the Pusher docs is accepted")
    func privateDocsVectorIsValid() {
        let auth = "\(PusherDocsVector.key):\(PusherDocsVector.privateSignature)"
        #expect(
            self.authorization.isValid(
                auth: auth,
                socketID: PusherDocsVector.socketID,
                channel: self.privateChannel,
                channelData: nil
            )
        )
    }

    @Test("signing a private channel reproduces the Pusher docs' auth string")
    func privateSignMatchesDocs() {
        #expect(
            self.authorization.sign(socketID: PusherDocsVector.socketID, channel: self.privateChannel)
                == "\(PusherDocsVector.key):\(PusherDocsVector.privateSignature)"
        )
    }

    @Test("the presence channel worked example from the Pusher docs is accepted")
    func presenceDocsVectorIsValid() {
        let auth = "\(PusherDocsVector.key):\(PusherDocsVector.presenceSignature)"
        #expect(
            self.authorization.isValid(
                auth: auth,
                socketID: PusherDocsVector.socketID,
                channel: self.presenceChannel,
                channelData: PusherDocsVector.presenceChannelData
            )
        )
        #expect(
            self.authorization.sign(
                socketID: PusherDocsVector.socketID,
                channel: self.presenceChannel,
                channelData: PusherDocsVector.presenceChannelData
            ) == auth
        )
    }

    @Test("the user authentication worked example from the Pusher docs is accepted")
    func signInDocsVectorIsValid() {
        let auth = "\(PusherDocsVector.key):\(PusherDocsVector.userSignature)"
        #expect(
            self.authorization.isValid(
                auth: auth,
                socketID: PusherDocsVector.socketID,
                userData: PusherDocsVector.userData
            )
        )
        #expect(
            self.authorization.sign(socketID: PusherDocsVector.socketID, userData: PusherDocsVector.userData) == auth
        )
    }

    @Test("a signature with one hex digit changed is refused", arguments: [0, 31, 63])
    func forgedSignatureIsRefused(offset: Int) {
        let socket = PusherDocsVector.socketID
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(forging(PusherDocsVector.privateSignature, at: offset))",
                socketID: socket,
                channel: self.privateChannel,
                channelData: nil
            )
        )
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(forging(PusherDocsVector.presenceSignature, at: offset))",
                socketID: socket,
                channel: self.presenceChannel,
                channelData: PusherDocsVector.presenceChannelData
            )
        )
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(forging(PusherDocsVector.userSignature, at: offset))",
                socketID: socket,
                userData: PusherDocsVector.userData
            )
        )
    }

    @Test("a valid signature under another app key is refused")
    func wrongKeyPrefixIsRefused() {
        for key in ["278d425bdf160c739804", "", "278D425BDF160C739803"] {
            #expect(
                !self.authorization.isValid(
                    auth: "\(key):\(PusherDocsVector.privateSignature)",
                    socketID: PusherDocsVector.socketID,
                    channel: self.privateChannel,
                    channelData: nil
                )
            )
            #expect(
                !self.authorization.isValid(
                    auth: "\(key):\(PusherDocsVector.userSignature)",
                    socketID: PusherDocsVector.socketID,
                    userData: PusherDocsVector.userData
                )
            )
        }
    }

    @Test("a signature issued for another socket is refused")
    func wrongSocketIsRefused() {
        let other = SocketID(major: 1234, minor: 1235)
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.privateSignature)",
                socketID: other,
                channel: self.privateChannel,
                channelData: nil
            )
        )
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.presenceSignature)",
                socketID: other,
                channel: self.presenceChannel,
                channelData: PusherDocsVector.presenceChannelData
            )
        )
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.userSignature)",
                socketID: other,
                userData: PusherDocsVector.userData
            )
        )
    }

    @Test("a signature for another channel or other channel_data is refused")
    func wrongChannelOrDataIsRefused() throws {
        let otherChannel = try ChannelName(validating: "private-foobaz")
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.privateSignature)",
                socketID: PusherDocsVector.socketID,
                channel: otherChannel,
                channelData: nil
            )
        )
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.presenceSignature)",
                socketID: PusherDocsVector.socketID,
                channel: self.presenceChannel,
                channelData: #"{"user_id":11,"user_info":{"name":"Mr. Channels"}}"#
            )
        )
    }

    @Test("a presence subscription without channel_data is refused")
    func presenceWithoutChannelDataIsRefused() {
        #expect(
            !self.authorization.isValid(
                auth: "\(PusherDocsVector.key):\(PusherDocsVector.presenceSignature)",
                socketID: PusherDocsVector.socketID,
                channel: self.presenceChannel,
                channelData: nil
            )
        )
    }

    @Test(
        "malformed auth strings are refused",
        arguments: [
            "",
            PusherDocsVector.privateSignature,  // no key and no colon
            "278d425bdf160c739803:",  // empty signature
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a",  // odd length
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3",  // 31 bytes
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4a4",  // 33 bytes
            "278d425bdf160c739803:zzdf8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",  // not hex
            "278d425bdf160c739803: 8df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",  // space
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4:",
        ]
    )
    func malformedAuthIsRefused(auth: String) {
        #expect(
            !self.authorization.isValid(
                auth: auth,
                socketID: PusherDocsVector.socketID,
                channel: self.privateChannel,
                channelData: nil
            )
        )
    }
}
