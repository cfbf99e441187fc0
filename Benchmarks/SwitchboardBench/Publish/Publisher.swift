import NIOCore
import NIOHTTP1

/// Publishes benchmark events (over the HTTP API, or NATS for nats-server) from one
/// event loop, either paced to a fixed rate or closed-loop as fast as the subscribers
/// keep up.
///
/// Pacing is open-loop: a 1 ms tick computes how many events are due since the start
/// and sends them in full batches on idle connections, so a slow server shows up as a
/// publish backlog, not as a quietly lower rate. The closed loop (`--rate 0`) bounds the
/// events that are published but not yet delivered to every subscriber: without that
/// bound the generator would fill the server's outbound buffers until the server,
/// rightly, closed the subscribers as slow consumers.
final class Publisher {
    struct Configuration: Sendable {
        var target: PublishTarget
        /// Events per second over all connections; 0 runs the closed loop.
        var rate: Double
        /// Events per request; above 1 the request goes to `/batch_events`.
        var batchSize: Int
        /// Keep-alive HTTP connections, each with one request in flight.
        var connections: Int
        /// Channels the events go to, round-robin.
        var channels: [String]
        /// Subscribers that receive each event; converts deliveries into events.
        var deliveriesPerEvent: Int
        /// Closed loop only: events sent but not yet delivered everywhere.
        var maximumLagEvents: Int
    }

    struct Result: Sendable {
        var requests = 0
        var sentEvents = 0
        /// Events in requests answered 200: the ones subscribers should receive.
        var publishedEvents = 0
        var failedEvents = 0
        var statuses: [UInt: Int] = [:]
        var connectionErrors = 0
        /// Request written to response complete: how long the server holds a publisher.
        var requestLatency = LatencyHistogram()
        /// From the first tick to the end of publishing.
        var elapsedSeconds = 0.0
    }

    private static let tickInterval = TimeAmount.milliseconds(1)
    private static let retryAfterTooManyRequests = TimeAmount.milliseconds(50)
    /// How long in-flight requests may take to finish once publishing stops.
    private static let stopGracePeriod = TimeAmount.seconds(5)

    private let configuration: Configuration
    private let loop: any EventLoop
    private let registry: StatisticsRegistry
    private let finished: EventLoopPromise<Result>
    private let deliveredAtStart: Int
    private var connections: [any PublishConnection] = []
    private var idle: [Int] = []
    /// Events in, and send time of, each connection's outstanding request.
    private var inFlight: [Int: (events: Int, sentAt: UInt64)] = [:]
    private var result = Result()
    private var nextSequence = 0
    private var nextChannel = 0
    private var startedAt = NIODeadline.now()
    private var stopAt = NIODeadline.now()
    private var isStopping = false
    private var isFinished = false

    private init(configuration: Configuration, loop: any EventLoop, registry: StatisticsRegistry) {
        self.configuration = configuration
        self.loop = loop
        self.registry = registry
        self.finished = loop.makePromise(of: Result.self)
        self.deliveredAtStart = registry.delivered
    }

    /// Connects, publishes for `duration`, waits for in-flight responses, closes.
    static func run(
        configuration: Configuration,
        registry: StatisticsRegistry,
        on loop: any EventLoop,
        for duration: TimeAmount
    ) -> EventLoopFuture<Result> {
        loop.flatSubmit {
            Publisher(configuration: configuration, loop: loop, registry: registry).start(duration: duration)
        }
    }

    private func start(duration: TimeAmount) -> EventLoopFuture<Result> {
        let target = self.configuration.target
        let connects = (0..<self.configuration.connections).map { _ in target.connect(on: self.loop) }
        return EventLoopFuture.whenAllSucceed(connects, on: self.loop).assumeIsolated().flatMap { channels in
            do {
                for (index, channel) in channels.enumerated() {
                    let handler = try target.connection(in: channel)
                    handler.onResponse = { status in self.received(status, on: index) }
                    handler.onClose = { self.closed(index) }
                    self.connections.append(handler)
                    self.idle.append(index)
                }
            } catch {
                return self.loop.makeFailedFuture(error)
            }
            self.startedAt = .now()
            self.stopAt = self.startedAt + duration
            self.tick()
            return self.finished.futureResult
        }.nonisolated()
    }

    private func tick() {
        let now = NIODeadline.now()
        guard now < self.stopAt else {
            self.beginStopping(at: now)
            return
        }
        self.dispatch(now: now)
        self.loop.assumeIsolated().scheduleTask(in: Self.tickInterval) { self.tick() }
    }

    private func dispatch(now: NIODeadline) {
        guard !self.isStopping else { return }
        while let index = self.idle.last, self.mayPublishBatch(now: now) {
            self.idle.removeLast()
            self.send(on: index)
        }
    }

    private func mayPublishBatch(now: NIODeadline) -> Bool {
        let batch = self.configuration.batchSize
        if self.configuration.rate > 0 {
            let elapsed = Double((now - self.startedAt).nanoseconds) / 1e9
            return Int(self.configuration.rate * elapsed) - self.result.sentEvents >= batch
        }
        let delivered = self.registry.delivered - self.deliveredAtStart
        let deliveredEvents = delivered / max(1, self.configuration.deliveriesPerEvent)
        return self.result.sentEvents - deliveredEvents + batch <= self.configuration.maximumLagEvents
    }

    private func send(on index: Int) {
        let channels = self.configuration.channels
        var events: [(channel: String, sequence: Int)] = []
        events.reserveCapacity(self.configuration.batchSize)
        for _ in 0..<self.configuration.batchSize {
            events.append((channels[self.nextChannel], self.nextSequence))
            self.nextChannel = (self.nextChannel + 1) % channels.count
            self.nextSequence += 1
        }
        let sentAt = NIODeadline.now().uptimeNanoseconds
        self.inFlight[index] = (events.count, sentAt)
        self.result.sentEvents += events.count
        self.result.requests += 1
        self.connections[index].publish(events: events, sentAt: sentAt)
    }

    private func received(_ status: HTTPResponseStatus, on index: Int) {
        guard let request = self.inFlight.removeValue(forKey: index) else { return }
        let events = request.events
        self.result.requestLatency.record(nanoseconds: NIODeadline.now().uptimeNanoseconds - request.sentAt)
        self.result.statuses[status.code, default: 0] += 1
        if status == .ok {
            self.result.publishedEvents += events
        } else {
            self.result.failedEvents += events
        }
        if status == .tooManyRequests {
            self.loop.assumeIsolated().scheduleTask(in: Self.retryAfterTooManyRequests) {
                self.idle.append(index)
            }
        } else {
            self.idle.append(index)
        }
        if self.isStopping {
            self.finishIfIdle()
        } else {
            self.dispatch(now: .now())
        }
    }

    private func closed(_ index: Int) {
        if let request = self.inFlight.removeValue(forKey: index) {
            self.result.failedEvents += request.events
        }
        self.idle.removeAll { $0 == index }
        guard !self.isFinished else { return }
        self.result.connectionErrors += 1
        if self.isStopping { self.finishIfIdle() }
    }

    private func beginStopping(at now: NIODeadline) {
        self.isStopping = true
        self.result.elapsedSeconds = Double((now - self.startedAt).nanoseconds) / 1e9
        self.loop.assumeIsolated().scheduleTask(in: Self.stopGracePeriod) { self.finish() }
        self.finishIfIdle()
    }

    private func finishIfIdle() {
        if self.inFlight.isEmpty { self.finish() }
    }

    private func finish() {
        guard !self.isFinished else { return }
        self.isFinished = true
        for connection in self.connections {
            connection.onResponse = { _ in }
            connection.onClose = {}
            connection.close()
        }
        self.finished.succeed(self.result)
    }
}

@available(*, unavailable)
extension Publisher: Sendable {}
