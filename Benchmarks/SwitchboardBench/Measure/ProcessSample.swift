import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process's resident memory and CPU time, read from Linux procfs.
///
/// Taken before and after a scenario for both the server (`--server-pid`) and the
/// generator itself: the server's deltas give memory per connection and CPU per
/// delivery, and comparing the two CPU deltas tells whether the generator was the
/// bottleneck. `nil` where procfs is missing (macOS) or the process is gone.
struct ProcessSample: Sendable {
    /// `VmRSS` from `/proc/PID/status`.
    var residentKiB: Int
    /// `utime + stime` from `/proc/PID/stat`, in seconds.
    var cpuSeconds: Double

    init?(pid: Int32) {
        guard let status = Self.read("/proc/\(pid)/status"), let stat = Self.read("/proc/\(pid)/stat") else {
            return nil
        }
        guard let rssLine = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let rss = rssLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        // The command name (field 2) may contain spaces; fields are counted after its ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and [12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        self.residentKiB = rss
        self.cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func current() -> ProcessSample? {
        ProcessSample(pid: getpid())
    }

    /// procfs files report size 0, so read until end of file instead of by size.
    static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
