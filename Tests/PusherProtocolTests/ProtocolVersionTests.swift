import PusherProtocol
import Testing

@Suite("Protocol version negotiation")
struct ProtocolVersionTests {
    @Test("a missing protocol parameter closes with 4008")
    func missing() {
        #expect(ProtocolVersion.validate(nil) == .noProtocolVersion)
        #expect(PusherCode.noProtocolVersion.rawValue == 4008)
    }

    @Test("a protocol that is not a number closes with 4006", arguments: ["abc", "", "7.0", " 7", "seven"])
    func notANumber(parameter: String) {
        #expect(ProtocolVersion.validate(parameter) == .invalidVersionString)
        #expect(PusherCode.invalidVersionString.rawValue == 4006)
    }

    @Test("versions 5, 6 and 7 are spoken", arguments: ["5", "6", "7"])
    func supported(parameter: String) {
        #expect(ProtocolVersion.validate(parameter) == nil)
    }

    @Test("other versions close with 4007", arguments: ["4", "8", "0", "-7", "700"])
    func unsupported(parameter: String) {
        #expect(ProtocolVersion.validate(parameter) == .unsupportedProtocolVersion)
        #expect(PusherCode.unsupportedProtocolVersion.rawValue == 4007)
    }

    @Test("close codes sit in the ranges pusher-js reads")
    func codeRanges() {
        for code: PusherCode in [
            .applicationDoesNotExist, .applicationDisabled, .applicationOverConnectionQuota, .pathNotFound,
            .invalidVersionString, .unsupportedProtocolVersion, .noProtocolVersion, .unauthorized,
        ] {
            #expect((4000...4099).contains(code.rawValue))
        }
        #expect((4100...4199).contains(PusherCode.overCapacity.rawValue))
        for code: PusherCode in [.reconnectImmediately, .pongNotReceived, .closedForInactivity] {
            #expect((4200...4299).contains(code.rawValue))
        }
        #expect(PusherCode.clientEventRejected.rawValue == 4301)
    }
}
