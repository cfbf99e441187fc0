import NIOCore
import NIOPosix

/// One measured stretch of publishing: snapshot, publish for the duration, wait for the
/// stragglers, snapshot again. Everything reported is a difference of the two snapshots,
/// so phases can run back to back on the same subscribers (`--compare-baseline`).
struct LoadPhase {
    var environment: BenchEnvironment
    var publisher: Publisher.Configuration
    var duration: Double

    /// After publishing stops, deliveries still in flight get this long to arrive once
    /// they stop making progress, and never more than `maximumDrain` in total.
    private static let quietPeriod = TimeAmount.seconds(1)
    private static let maximumDrain = TimeAmount.seconds(10)

    func run() async throws -> LoadPhaseResult {
        let registry = self.environment.registry
        let before = try await registry.snapshot()
        let deliveredBefore = registry.delivered
        let serverBefore = self.environment.serverSample
        let generatorBefore = ProcessSample.current()

        let published = try await Publisher.run(
            configuration: self.publisher,
            registry: registry,
            on: self.environment.group.next(),
            for: .nanoseconds(Int64(self.duration * 1e9))
        ).get()

        let expected = published.publishedEvents * self.publisher.deliveriesPerEvent
        let drainStart = NIODeadline.now()
        var lastCount = registry.delivered
        var lastProgress = drainStart
        while registry.delivered - deliveredBefore < expected {
            let now = NIODeadline.now()
            if now - lastProgress > Self.quietPeriod || now - drainStart > Self.maximumDrain { break }
            try await Task.sleep(for: .milliseconds(20))
            let count = registry.delivered
            if count != lastCount {
                lastCount = count
                lastProgress = .now()
            }
        }

        let after = try await registry.snapshot()
        return LoadPhaseResult(
            publish: published,
            observed: after.subtracting(before),
            expectedDeliveries: expected,
            drainSeconds: Double((NIODeadline.now() - drainStart).nanoseconds) / 1e9,
            server: ProcessDelta(before: serverBefore, after: self.environment.serverSample),
            generator: ProcessDelta(before: generatorBefore, after: ProcessSample.current())
        )
    }
}

/// CPU and memory of one process across a phase; empty when either sample is missing.
struct ProcessDelta {
    var before: ProcessSample?
    var after: ProcessSample?

    var cpuSeconds: Double? {
        guard let before = self.before, let after = self.after else { return nil }
        return after.cpuSeconds - before.cpuSeconds
    }
}
