import NIOCore

/// The number of CPUs this process may run on.
///
/// NIO's `System.coreCount` ignores the affinity mask that `taskset -c 1` sets, and an
/// event loop per machine core on a one-core mask only adds context switches to the
/// numbers. Reads `Cpus_allowed_list` (`0-3,6`) from `/proc/self/status`.
enum CPUAffinity {
    static var allowedCPUCount: Int {
        guard let status = ProcessSample.read("/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return System.coreCount }
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            switch bounds.count {
            case 1: count += 1
            case 2 where bounds[1] >= bounds[0]: count += bounds[1] - bounds[0] + 1
            default: return System.coreCount
            }
        }
        return count > 0 ? count : System.coreCount
    }
}
