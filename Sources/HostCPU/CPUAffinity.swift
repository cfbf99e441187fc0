#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The number of CPUs this process may run on: the affinity mask (`taskset`, `docker
/// --cpuset-cpus`, a systemd `CPUAffinity=`) and the cgroup CPU quota, whichever is smaller.
///
/// NIO's `System.coreCount` reads the quota but not the affinity mask. An event loop per
/// machine core on a one-core mask gains nothing and costs a context switch at every hop
/// between loops: on one pinned core, two loops instead of one cost 20% more CPU per
/// published event and double the p99 (BENCHMARKS.md). Reads `Cpus_allowed_list`
/// (`0-3,6`) from `/proc/self/status`; where that is missing, NIO's count stands.
public enum CPUAffinity {
    public static var allowedCPUCount: Int {
        guard let count = self.affinityCount else { return System.coreCount }
        return min(count, System.coreCount)
    }

    private static var affinityCount: Int? {
        guard let status = Self.read("/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            switch bounds.count {
            case 1: count += 1
            case 2 where bounds[1] >= bounds[0]: count += bounds[1] - bounds[0] + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }

    /// procfs files report size 0: read until end of file.
    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
