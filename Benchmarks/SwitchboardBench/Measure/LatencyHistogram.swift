/// Nanosecond latencies in log-linear buckets, as HdrHistogram keeps them: 128 linear
/// sub-buckets per power of two, so a reported percentile is within 0.8% of the true
/// value while the whole range (1 ns to centuries) fits in 7,424 counters (58 KiB).
///
/// Recording is one index computation and one increment, cheap enough to run for every
/// delivery on the event loop that received it; merging and subtracting are
/// element-wise, so a phase's latencies are the difference of two snapshots.
struct LatencyHistogram: Sendable, Equatable {
    private static let linearLimit = 256
    private static let subBucketCount = 128
    private static let bucketCount = 56 * 128 + 256

    private(set) var counts: [Int]
    private(set) var totalCount: Int

    init() {
        self.counts = Array(repeating: 0, count: Self.bucketCount)
        self.totalCount = 0
    }

    mutating func record(nanoseconds value: UInt64) {
        self.counts[Self.index(of: value)] += 1
        self.totalCount += 1
    }

    /// Values below 256 ns have a bucket each; above, the top eight significant bits pick it.
    static func index(of value: UInt64) -> Int {
        if value < UInt64(Self.linearLimit) { return Int(value) }
        let shift = (63 - value.leadingZeroBitCount) - 7
        return shift * Self.subBucketCount + Int(value >> UInt64(shift))
    }

    /// The middle of the bucket's range: the estimate with the smallest worst-case error.
    static func representativeValue(ofIndex index: Int) -> UInt64 {
        if index < Self.linearLimit { return UInt64(index) }
        let shift = index / Self.subBucketCount - 1
        let mantissa = UInt64(index - shift * Self.subBucketCount)
        return (mantissa << UInt64(shift)) + ((1 << UInt64(shift)) >> 1)
    }

    /// The value at quantile `q` (0...1) in nanoseconds, or `nil` when nothing was recorded.
    func value(atQuantile q: Double) -> UInt64? {
        guard self.totalCount > 0 else { return nil }
        let rank = max(1, Int((q * Double(self.totalCount)).rounded(.up)))
        var seen = 0
        for (index, count) in self.counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return Self.representativeValue(ofIndex: index) }
        }
        return self.maximum
    }

    var maximum: UInt64? {
        self.counts.lastIndex(where: { $0 > 0 }).map(Self.representativeValue(ofIndex:))
    }

    mutating func add(_ other: LatencyHistogram) {
        for index in self.counts.indices { self.counts[index] += other.counts[index] }
        self.totalCount += other.totalCount
    }

    /// What was recorded since `earlier`, a snapshot of this same histogram.
    func subtracting(_ earlier: LatencyHistogram) -> LatencyHistogram {
        var result = self
        for index in result.counts.indices { result.counts[index] -= earlier.counts[index] }
        result.totalCount -= earlier.totalCount
        return result
    }
}
