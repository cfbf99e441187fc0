import Logging
import NIOConcurrencyHelpers
import NIOCore
import PusherProtocol

/// Logs refused connections without letting a client that retries in a loop flood the log.
///
/// A refusal at connect (unknown key, disabled app, quota, capacity) is worth an
/// operator's time, so it is logged at info; after the first line for a close code,
/// further refusals with that code are only counted for ``window`` and the next line
/// says how many were left out.
final class RefusalLog: Sendable {
    static let window = TimeAmount.seconds(10)

    private struct Entry {
        var windowStart: NIODeadline
        var suppressed: Int
    }

    private let logger: Logger
    private let entries = NIOLockedValueBox<[UInt16: Entry]>([:])

    init(logger: Logger) {
        self.logger = logger
    }

    func refused(code: PusherCode, reason: String, appKey: String, now: NIODeadline = .now()) {
        let suppressed: Int? = self.entries.withLockedValue { entries in
            if var entry = entries[code.rawValue], now - entry.windowStart < Self.window {
                entry.suppressed += 1
                entries[code.rawValue] = entry
                return nil
            }
            let previous = entries[code.rawValue]?.suppressed ?? 0
            entries[code.rawValue] = Entry(windowStart: now, suppressed: 0)
            return previous
        }
        guard let suppressed else { return }
        self.logger.info(
            "connection refused",
            metadata: [
                "close.code": "\(code.rawValue)", "reason": "\(reason)", "app.key": "\(appKey)",
                "refusals.suppressed": "\(suppressed)",
            ]
        )
    }
}
