/// What the subscribers on one event loop observed. Only that loop writes it, so
/// recording a delivery needs no lock; readers take a copy on the loop
/// (``StatisticsRegistry/snapshot()``).
struct LoopStatistics: Sendable {
    var latency = LatencyHistogram()
    var deliveries = 0
    /// Subscriber sockets that closed without the generator asking them to.
    var disconnects = 0
    /// WebSocket close codes received from the server, by code.
    var closeCodes: [UInt16: Int] = [:]
    /// `pusher:error` events or NATS `-ERR`s received.
    var protocolErrors = 0

    mutating func add(_ other: LoopStatistics) {
        self.latency.add(other.latency)
        self.deliveries += other.deliveries
        self.disconnects += other.disconnects
        self.closeCodes.merge(other.closeCodes, uniquingKeysWith: +)
        self.protocolErrors += other.protocolErrors
    }

    /// What happened since `earlier`, a snapshot of the same counters.
    func subtracting(_ earlier: LoopStatistics) -> LoopStatistics {
        var result = self
        result.latency = self.latency.subtracting(earlier.latency)
        result.deliveries -= earlier.deliveries
        result.disconnects -= earlier.disconnects
        result.closeCodes = self.closeCodes.merging(earlier.closeCodes.mapValues { -$0 }, uniquingKeysWith: +)
            .filter { $0.value != 0 }
        result.protocolErrors -= earlier.protocolErrors
        return result
    }
}
