#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft open-file limit to the hard limit: every subscriber is a descriptor,
/// and the usual soft limit of 1024 would cap a run at about a thousand connections.
enum FileDescriptorLimit {
    /// - Returns: the soft limit in effect afterwards.
    @discardableResult
    static func raiseToMaximum() -> Int {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
        #else
        return -1
        #endif
    }
}
