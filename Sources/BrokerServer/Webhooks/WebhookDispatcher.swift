import BrokerConfig
public import BrokerCore
import CoreMetrics
public import Logging
public import NIOCore
import PusherProtocol
public import ServiceLifecycle
import Synchronization

/// Sends apps' webhooks (PROTOCOL.md, "Webhooks"): the broker records channel events,
/// this holds vacates and removals for ``holdDuration`` so a quick return cancels both
/// sides, gathers each endpoint's events over ``batchWindow`` into one signed POST of at
/// most 100 events, and retries failed POSTs with back-off for minutes.
///
/// ``record(_:app:)`` takes a lock for a few dictionary and queue operations and never
/// waits, so shards and connection actors call it inline. Everything slow happens in
/// ``run()``, which must be running (as a `Service` of the executable's `ServiceGroup`)
/// for anything to be sent; it may be run once. Apps without `webhooks:` cost one
/// dictionary lookup per event.
public final class WebhookDispatcher: ChannelEventSink, Service {
    /// Node-wide totals since start; the same numbers, per app, go to swift-metrics.
    public struct Statistics: Sendable, Equatable {
        /// POSTs answered with 2xx.
        public var deliveries = 0
        /// Batches given up: retry window spent, or still failing at shutdown.
        public var failures = 0
        /// Attempts after a failed one.
        public var retries = 0
        /// Events refused because the pending bound was reached.
        public var dropped = 0
    }

    struct State {
        var scheduler: WebhookScheduler
        var statistics = Statistics()
        var failureLogs: [WebhookFailureLog]
        /// Set at graceful shutdown: when the last batches are abandoned.
        var drainDeadline: NIODeadline?
    }

    /// How long a vacate or removal waits for its opposite before it is sent.
    public let holdDuration: TimeAmount
    /// How long an endpoint's first queued event waits for company before the POST.
    public let batchWindow: TimeAmount
    public let delivery: WebhookDeliveryConfiguration
    let endpoints: [WebhookEndpoint]
    let apps: [WebhookApp]
    private let appIndexByID: [String: Int]
    let logger: Logger
    let state: Mutex<State>
    let makeTransport: @Sendable () -> any WebhookTransport
    let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - apps: every configured app; those without `webhooks:` are skipped.
    ///   - holdDuration: Pusher's delay for `channel_vacated` and `member_removed`.
    ///   - batchWindow: longer windows mean fewer, larger POSTs and later webhooks.
    public convenience init(
        apps: [App],
        logger: Logger,
        holdDuration: TimeAmount = .seconds(3),
        batchWindow: TimeAmount = .milliseconds(250),
        delivery: WebhookDeliveryConfiguration = .init()
    ) {
        let connectTimeout = min(delivery.requestTimeout, .seconds(5))
        self.init(
            apps: apps,
            logger: logger,
            holdDuration: holdDuration,
            batchWindow: batchWindow,
            delivery: delivery,
            makeTransport: { HTTPClientWebhookTransport(connectTimeout: connectTimeout) }
        )
    }

    /// - Parameter makeTransport: called once by ``run()``, so a dispatcher that never
    ///   runs never opens an HTTP client that would need shutting down.
    init(
        apps: [App],
        logger: Logger,
        holdDuration: TimeAmount,
        batchWindow: TimeAmount,
        delivery: WebhookDeliveryConfiguration,
        makeTransport: @escaping @Sendable () -> any WebhookTransport
    ) {
        var endpoints: [WebhookEndpoint] = []
        var hookedApps: [WebhookApp] = []
        for app in apps where !app.configuration.webhooks.isEmpty {
            let appIndex = hookedApps.count
            let first = endpoints.count
            let signature = HMACSignature(secret: app.configuration.secret)
            for webhook in app.configuration.webhooks {
                endpoints.append(
                    WebhookEndpoint(
                        appIndex: appIndex,
                        appID: app.id,
                        appKey: app.key,
                        url: webhook.url,
                        eventTypes: webhook.eventTypes,
                        signature: signature
                    )
                )
            }
            hookedApps.append(
                WebhookApp(
                    index: appIndex,
                    id: app.id,
                    endpoints: Array(first..<endpoints.count),
                    eventTypes: app.configuration.webhooks.reduce(into: []) { $0.formUnion($1.eventTypes) }
                )
            )
        }
        self.holdDuration = holdDuration
        self.batchWindow = batchWindow
        self.delivery = delivery
        self.endpoints = endpoints
        self.apps = hookedApps
        self.appIndexByID = Dictionary(
            hookedApps.map { (endpoints[$0.endpoints[0]].appID, $0.index) },
            uniquingKeysWith: { first, _ in first }
        )
        self.logger = logger
        self.makeTransport = makeTransport
        let scheduler = WebhookScheduler(
            endpointCount: endpoints.count,
            configuration: .init(
                holdDuration: holdDuration,
                batchWindow: batchWindow,
                maxPendingEvents: delivery.maxPendingEvents,
                maxEventsPerRequest: delivery.maxEventsPerRequest
            )
        )
        self.state = Mutex(
            State(
                scheduler: scheduler,
                failureLogs: Array(
                    repeating: WebhookFailureLog(interval: delivery.failureLogInterval),
                    count: endpoints.count
                )
            )
        )
        // One buffered wake-up is enough: the loop looks at the whole schedule each time.
        let (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wakeups = wakeups
        self.wakeupContinuation = continuation
    }

    /// Whether any app has webhooks; without any, ``run()`` only waits for shutdown.
    public var isEnabled: Bool { !self.endpoints.isEmpty }

    /// A snapshot of the counters, for tests and diagnostics.
    public var statistics: Statistics {
        self.state.withLock { $0.statistics }
    }

    public func record(_ event: ChannelLifecycleEvent, app: App) {
        guard let appIndex = self.appIndexByID[app.id] else {
            return
        }
        let hooks = self.apps[appIndex]
        let name = event.name
        let targets = hooks.endpoints.filter { self.endpoints[$0].eventTypes.contains(name) }
        let role = event.holdRole(appIndex: appIndex)
        switch role {
        case .none:
            guard !targets.isEmpty else { return }
        case .held(_, let counterpart), .cancels(_, let counterpart):
            // Needed even when unwanted itself if the app wants the opposite event,
            // which this one suppresses or is suppressed by.
            guard !targets.isEmpty || hooks.eventTypes.contains(counterpart) else { return }
        }
        var json: [UInt8] = []
        event.webhookJSON.serialize(into: &json)
        let pending = WebhookPendingEvent(appIndex: appIndex, endpoints: targets, json: json)
        let now = NIODeadline.now()
        let outcome = self.state.withLock { state in
            let outcome = state.scheduler.record(pending, role: role, now: now)
            if outcome == .dropped {
                state.statistics.dropped += 1
            }
            return outcome
        }
        switch outcome {
        case .accepted(wake: true):
            self.wake()
        case .dropped:
            hooks.dropped.increment()
        case .accepted(wake: false), .cancelledHold, .ignored:
            break
        }
    }

    /// Makes ``run()`` look at the schedule again.
    func wake() {
        self.wakeupContinuation.yield()
    }
}
