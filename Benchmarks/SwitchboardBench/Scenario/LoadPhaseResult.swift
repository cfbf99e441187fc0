/// What one ``LoadPhase`` measured, and how it is reported.
struct LoadPhaseResult {
    var publish: Publisher.Result
    var observed: LoopStatistics
    /// Events answered 200 times the subscribers each one should reach.
    var expectedDeliveries: Int
    var drainSeconds: Double
    var server: ProcessDelta
    var generator: ProcessDelta

    /// Publishing plus draining: the span the CPU deltas cover, near enough. 100% is one
    /// core busy throughout, the ceiling for a process pinned to one core.
    var wallSeconds: Double { max(self.publish.elapsedSeconds + self.drainSeconds, 1e-9) }

    var deliveriesPerSecond: Double {
        Double(self.observed.deliveries) / max(self.publish.elapsedSeconds, 1e-9)
    }

    /// Expected minus received; negative would mean duplicates.
    var loss: Int { self.expectedDeliveries - self.observed.deliveries }

    /// Server CPU per delivery: the cost of fan-out, independent of the rate offered.
    var serverMicrosecondsPerDelivery: Double? {
        guard let cpu = self.server.cpuSeconds, self.observed.deliveries > 0 else { return nil }
        return cpu * 1e6 / Double(self.observed.deliveries)
    }

    func latencyMilliseconds(atQuantile q: Double) -> Double? {
        self.observed.latency.value(atQuantile: q).map { Double($0) / 1e6 }
    }

    /// The fields every publishing scenario reports, in a fixed order.
    func add(to report: inout Report) {
        report.add("publish_seconds", self.publish.elapsedSeconds, decimals: 2)
        report.add("requests", .int(self.publish.requests))
        report.add("events_published", .int(self.publish.publishedEvents))
        report.add("events_failed", .int(self.publish.failedEvents))
        let publishRate = Double(self.publish.publishedEvents) / max(self.publish.elapsedSeconds, 1e-9)
        report.add("publish_rate_per_s", publishRate, decimals: 1)
        report.add("http_statuses", .string(Self.describe(self.publish.statuses)))
        let requests = self.publish.requestLatency
        report.add("http_request_p50_ms", requests.value(atQuantile: 0.5).map { Double($0) / 1e6 }, decimals: 3)
        report.add("http_request_p99_ms", requests.value(atQuantile: 0.99).map { Double($0) / 1e6 }, decimals: 3)
        report.add("deliveries", .int(self.observed.deliveries))
        report.add("expected_deliveries", .int(self.expectedDeliveries))
        report.add("loss", .int(self.loss))
        report.add("deliveries_per_s", self.deliveriesPerSecond, decimals: 0)
        report.add("latency_p50_ms", self.latencyMilliseconds(atQuantile: 0.5), decimals: 3)
        report.add("latency_p99_ms", self.latencyMilliseconds(atQuantile: 0.99), decimals: 3)
        report.add("latency_p999_ms", self.latencyMilliseconds(atQuantile: 0.999), decimals: 3)
        report.add("latency_max_ms", self.observed.latency.maximum.map { Double($0) / 1e6 }, decimals: 3)
        report.add("disconnects", .int(self.observed.disconnects))
        report.add("close_codes", .string(Self.describe(self.observed.closeCodes)))
        report.add("protocol_errors", .int(self.observed.protocolErrors))
        report.add("drain_seconds", self.drainSeconds, decimals: 2)
        report.add("server_cpu_s", self.server.cpuSeconds, decimals: 3)
        report.add("generator_cpu_s", self.generator.cpuSeconds, decimals: 3)
        report.add("server_cpu_percent", self.server.cpuSeconds.map { $0 * 100 / self.wallSeconds }, decimals: 1)
        report.add("generator_cpu_percent", self.generator.cpuSeconds.map { $0 * 100 / self.wallSeconds }, decimals: 1)
        report.add("server_cpu_us_per_delivery", self.serverMicrosecondsPerDelivery, decimals: 3)
        report.add("server_rss_end_kib", self.server.after.map { .int($0.residentKiB) } ?? .null)
    }

    /// `200=500 429=3`, or `none`.
    static func describe<Key: BinaryInteger>(_ counts: [Key: Int]) -> String {
        guard !counts.isEmpty else { return "none" }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
