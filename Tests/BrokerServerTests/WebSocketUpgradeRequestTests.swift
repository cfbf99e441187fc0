import Foundation
import Testing
import WebSocketFraming

@testable import BrokerServer

@Suite struct WebSocketUpgradeRequestTests {
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private static func head(_ lines: [String]) -> String {
        lines.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    /// What pusher-js sends from a browser, give or take the browser's extra headers.
    private static func browserHead(_ extra: [String] = [], dropping dropped: String? = nil) -> String {
        let lines = [
            "GET /app/app-key?protocol=7&client=js&version=8.4.0&flash=false HTTP/1.1",
            "Host: localhost:6001",
            "Connection: Upgrade",
            "Pragma: no-cache",
            "Upgrade: websocket",
            "Origin: https://example.com",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: \(Self.key)",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ]
        return Self.head(lines.filter { dropped == nil || !$0.hasPrefix(dropped!) } + extra)
    }

    private static func read(_ head: String) -> WebSocketUpgradeRequest? {
        Array(head.utf8).withUnsafeBytes { WebSocketUpgradeRequest(head: $0) }
    }

    @Test("a browser's handshake gives its target, key and origin")
    func browserHandshake() {
        let request = Self.read(Self.browserHead())
        #expect(request?.target == "/app/app-key?protocol=7&client=js&version=8.4.0&flash=false")
        #expect(request?.key == Self.key)
        #expect(request?.origin == "https://example.com")
        #expect(request?.forwardedFor == [])
    }

    @Test(
        "header names are read without case, values without surrounding whitespace, token lists in any case",
        arguments: [
            ["GET /app/k HTTP/1.1", "host: h", "upgrade: WebSocket", "connection: keep-alive, Upgrade",
             "sec-websocket-key:\t \(key) ", "SEC-WEBSOCKET-VERSION:13"],
            ["GET /app/k HTTP/1.1", "Upgrade: h2c, websocket", "Connection: close", "Connection: upgrade",
             "Sec-WebSocket-Key: \(key)", "Sec-WebSocket-Version: 13", "Content-Length: 0"],
        ]
    )
    func lenientWhereHTTPIs(lines: [String]) {
        let request = Self.read(Self.head(lines))
        #expect(request?.target == "/app/k")
        #expect(request?.key == Self.key)
        #expect(request?.origin == nil)
    }

    @Test("every X-Forwarded-For line is kept, in order")
    func forwardedFor() {
        let request = Self.read(Self.browserHead(["X-Forwarded-For: 203.0.113.7, 10.0.0.2", "x-forwarded-for: 10.0.0.3"]))
        #expect(request?.forwardedFor == ["203.0.113.7, 10.0.0.2", "10.0.0.3"])
    }

    @Test(
        "a request that is not a clean version-13 upgrade is left to the HTTP pipeline",
        arguments: [
            ("no Upgrade header", browserHead(dropping: "Upgrade:")),
            ("no Connection: upgrade", browserHead(dropping: "Connection:")),
            ("no key", browserHead(dropping: "Sec-WebSocket-Key:")),
            ("no version", browserHead(dropping: "Sec-WebSocket-Version:")),
            ("version 8", browserHead(["Sec-WebSocket-Version: 8"], dropping: "Sec-WebSocket-Version:")),
            ("two keys", browserHead(["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="])),
            ("two origins", browserHead(["Origin: https://evil.example"])),
            ("a body", browserHead(["Content-Length: 5"])),
            ("chunked", browserHead(["Transfer-Encoding: chunked"])),
            ("folded header", browserHead(["X-Long: first", " second"])),
            ("space before the colon", browserHead(["X-Bad : value"])),
            ("empty name", browserHead([": value"])),
            ("control character", browserHead(["X-Bad: a\u{1}b"])),
            ("bare line feed", browserHead().replacingOccurrences(of: "Pragma: no-cache\r\n", with: "Pragma: no-cache\n")),
            ("bare carriage return", browserHead().replacingOccurrences(of: "Pragma: no-cache\r\n", with: "Pragma: no-cache\r")),
            ("POST", browserHead().replacingOccurrences(of: "GET /app", with: "POST /app")),
            ("HTTP/1.0", browserHead().replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0")),
            ("absolute-form target", browserHead().replacingOccurrences(of: "GET /app", with: "GET http://h/app")),
            ("space in target", browserHead().replacingOccurrences(of: "/app/app-key?", with: "/app/app key?")),
            ("bytes after the head", browserHead() + "X"),
            ("no end of head", String(browserHead().dropLast(2))),
        ]
    )
    func declined(_ reason: String, head: String) {
        #expect(Self.read(head) == nil, "\(reason)")
    }

    @Test("the end of a head is found however it is split across reads", arguments: [1, 2, 3, 7, 1_000])
    func headBoundaryAcrossReads(readSize: Int) {
        let message = Array((Self.browserHead() + "frame bytes").utf8)
        let expected = Self.browserHead().utf8.count
        var boundary = HTTPHeadBoundary()
        var found: Int?
        var received = 0
        while found == nil, received < message.count {
            received = min(message.count, received + readSize)
            found = message[..<received].withUnsafeBytes { boundary.headLength(in: $0) }
        }
        #expect(found == expected)
        #expect(received >= expected)
    }

    @Test("lone line feeds and carriage returns do not end a head")
    func headBoundaryNeedsCRLFCRLF() {
        var boundary = HTTPHeadBoundary()
        #expect(Array("GET / HTTP/1.1\n\nHost: x\r\n\r".utf8).withUnsafeBytes { boundary.headLength(in: $0) } == nil)
        #expect(Array("GET / HTTP/1.1\n\nHost: x\r\n\r\n".utf8).withUnsafeBytes { boundary.headLength(in: $0) } == 27)
    }
}
