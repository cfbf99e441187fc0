import NIOCore
import NIOEmbedded
import PusherProtocol
import Testing

@testable import BrokerCore

@Suite("User sign-in and user channels, end to end without sockets")
struct SignInTests {
    func signIn(_ client: TestClient, userData: String, auth: String? = nil) async throws {
        let auth = auth ?? client.app.channelAuthorization.sign(socketID: client.socketID, userData: userData)
        try await client.send(
            .object([
                ("event", .string("pusher:signin")),
                ("data", .object([("auth", .string(auth)), ("user_data", .string(userData))])),
            ])
        )
    }

    @Test("a signed user_data signs the socket in, and only that user may subscribe #server-to-user-<id>")
    func signInAndUserChannel() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await self.signIn(client, userData: #"{"id":"u1"}"#)
        let success = try #require(try await client.events(named: "pusher:signin_success").first)
        #expect(success.payload?["user_data"] == .string(#"{"id":"u1"}"#))

        try await client.subscribe("#server-to-user-u2")
        let error = try #require(try await client.events(named: "pusher:subscription_error").first)
        #expect(error.payload?["status"] == .number("403"))

        try await client.subscribe("#server-to-user-u1")
        #expect(try await client.events(named: "pusher_internal:subscription_succeeded").count == 1)
        harness.broker.publish(
            app: harness.app,
            channel: .user("u1"),
            event: ServerEvent(event: "notice", channel: "#server-to-user-u1", data: .string("hi")),
            excluding: nil
        )
        try await harness.eventually("user event") { try await client.events(named: "notice").count == 1 }
        await harness.shutdown()
    }

    @Test("a forged sign-in closes the socket with 4009")
    func forgedSignIn() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        let userData = #"{"id":"u1"}"#
        let genuine = harness.app.channelAuthorization.sign(socketID: client.socketID, userData: userData)
        try await self.signIn(client, userData: userData, auth: forging(genuine, at: genuine.count - 1))
        #expect(try await client.closeCode() == .unauthorized)
        #expect(try await client.events(named: "pusher:signin_success").isEmpty)
        await harness.shutdown()
    }

    @Test("terminate_connections closes every socket of the user with 4009 and no other")
    func terminateUser() async throws {
        let harness = try await BrokerHarness()
        let tabs = [try await harness.connect(), try await harness.connect()]
        let other = try await harness.connect()
        for tab in tabs { try await self.signIn(tab, userData: #"{"id":"u1"}"#) }
        try await self.signIn(other, userData: #"{"id":"u2"}"#)
        harness.broker.terminate(app: harness.app, userID: "u1")
        try await harness.eventually("termination") {
            for tab in tabs {
                if try await tab.closeCode() != .unauthorized { return false }
            }
            return true
        }
        #expect(try await other.closeCode() == nil)
        await harness.shutdown()
    }

    @Test("a socket that changes user is no longer terminated as the previous one")
    func reSignInMovesUser() async throws {
        let harness = try await BrokerHarness()
        let client = try await harness.connect()
        try await self.signIn(client, userData: #"{"id":"u1"}"#)
        try await self.signIn(client, userData: #"{"id":"u2"}"#)
        harness.broker.terminate(app: harness.app, userID: "u1")
        try await harness.settle()
        #expect(try await client.closeCode() == nil)
        harness.broker.terminate(app: harness.app, userID: "u2")
        try await harness.eventually("termination") { try await client.closeCode() == .unauthorized }
        await harness.shutdown()
    }

    @Test("with a sign-in timeout, a socket not signed in by then is closed with 4009")
    func signInTimeout() async throws {
        let harness = try await BrokerHarness(app: .test(userAuthenticationTimeoutSeconds: 5))
        let late = try await harness.connect()
        let prompt = try await harness.connect()
        try await self.signIn(prompt, userData: #"{"id":"u1"}"#)
        let start = harness.loop.now
        for client in [late, prompt] { try await client.checkActivity(at: start + .seconds(5)) }
        #expect(try await late.closeCode() == .unauthorized)
        #expect(try await prompt.closeCode() == nil)
        await harness.shutdown()
    }
}
