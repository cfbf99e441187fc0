import NIOCore
import Testing

@testable import BrokerServer

/// The scheduler on a hand-driven clock: no timers, no tasks.
@Suite struct WebhookSchedulerTests {
    private static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func scheduler(endpoints: Int = 1, maxPending: Int = 100, perRequest: Int = 100) -> WebhookScheduler {
        WebhookScheduler(
            endpointCount: endpoints,
            configuration: .init(
                holdDuration: .seconds(3),
                batchWindow: .milliseconds(250),
                maxPendingEvents: maxPending,
                maxEventsPerRequest: perRequest
            )
        )
    }

    private func event(_ text: String, endpoints: [Int] = [0]) -> WebhookPendingEvent {
        WebhookPendingEvent(appIndex: 0, endpoints: endpoints, json: Array(text.utf8))
    }

    private func texts(_ batches: [WebhookBatch]) -> [[String]] {
        batches.map { $0.events.map { String(decoding: $0, as: UTF8.self) } }
    }

    private let vacatedRole = WebhookHoldRole.held(.channel(appIndex: 0, channel: "c"), counterpart: "channel_occupied")
    private let occupiedRole = WebhookHoldRole.cancels(.channel(appIndex: 0, channel: "c"), counterpart: "channel_vacated")

    @Test func eventsWaitForTheWindowAndGoTogether() {
        var scheduler = self.scheduler()
        #expect(scheduler.record(self.event("a"), role: .none, now: Self.start) == .accepted(wake: true))
        let first = scheduler.takeDue(now: Self.start)
        #expect(first.batches.isEmpty)
        #expect(first.arm == Self.start + .milliseconds(250))
        #expect(
            scheduler.record(self.event("b"), role: .none, now: Self.start + .milliseconds(100))
                == .accepted(wake: false)
        )
        let due = scheduler.takeDue(now: Self.start + .milliseconds(250))
        #expect(self.texts(due.batches) == [["a", "b"]])
        #expect(scheduler.pendingEvents == 2)
        scheduler.finish(due.batches[0])
        #expect(scheduler.isIdle)
    }

    @Test func vacateIsHeldThenReleasedIntoAWindow() {
        var scheduler = self.scheduler()
        #expect(scheduler.record(self.event("vacated"), role: self.vacatedRole, now: Self.start) == .accepted(wake: true))
        #expect(scheduler.takeDue(now: Self.start + .milliseconds(2_999)).batches.isEmpty)
        let released = scheduler.takeDue(now: Self.start + .seconds(3))
        #expect(released.batches.isEmpty)
        #expect(released.arm == Self.start + .seconds(3) + .milliseconds(250))
        #expect(self.texts(scheduler.takeDue(now: Self.start + .seconds(4)).batches) == [["vacated"]])
    }

    @Test func returnWithinTheHoldCancelsBothEvents() {
        var scheduler = self.scheduler()
        _ = scheduler.record(self.event("vacated"), role: self.vacatedRole, now: Self.start)
        #expect(
            scheduler.record(self.event("occupied"), role: self.occupiedRole, now: Self.start + .seconds(1))
                == .cancelledHold
        )
        #expect(scheduler.isIdle)
        #expect(scheduler.takeDue(now: Self.start + .seconds(10)).batches.isEmpty)
    }

    @Test func occupyWithoutAHoldIsSentNormally() {
        var scheduler = self.scheduler()
        #expect(scheduler.record(self.event("occupied"), role: self.occupiedRole, now: Self.start) == .accepted(wake: true))
        #expect(self.texts(scheduler.takeDue(now: Self.start + .seconds(1)).batches) == [["occupied"]])
    }

    @Test func aSecondVacateForTheSameChannelIsIgnored() {
        var scheduler = self.scheduler()
        _ = scheduler.record(self.event("vacated"), role: self.vacatedRole, now: Self.start)
        #expect(scheduler.record(self.event("vacated"), role: self.vacatedRole, now: Self.start) == .ignored)
        #expect(scheduler.pendingEvents == 1)
    }

    @Test func batchesAreSplitAndOneEndpointSendsOneAtATime() {
        var scheduler = self.scheduler(perRequest: 2)
        for name in ["a", "b", "c"] {
            _ = scheduler.record(self.event(name), role: .none, now: Self.start)
        }
        let first = scheduler.takeDue(now: Self.start + .seconds(1))
        #expect(self.texts(first.batches) == [["a", "b"]])
        #expect(scheduler.takeDue(now: Self.start + .seconds(2)).batches.isEmpty)
        scheduler.finish(first.batches[0])
        #expect(self.texts(scheduler.takeDue(now: Self.start + .seconds(2)).batches) == [["c"]])
    }

    @Test func endpointsAreIndependent() {
        var scheduler = self.scheduler(endpoints: 2)
        _ = scheduler.record(self.event("a", endpoints: [0, 1]), role: .none, now: Self.start)
        let first = scheduler.takeDue(now: Self.start + .seconds(1))
        #expect(first.batches.map(\.endpoint) == [0, 1])
        scheduler.finish(first.batches[1])
        _ = scheduler.record(self.event("b", endpoints: [0, 1]), role: .none, now: Self.start + .seconds(1))
        // Endpoint 0 is still busy; endpoint 1 goes on.
        #expect(scheduler.takeDue(now: Self.start + .seconds(2)).batches.map(\.endpoint) == [1])
    }

    @Test func overTheBoundEventsAreDropped() {
        var scheduler = self.scheduler(endpoints: 2, maxPending: 3)
        #expect(scheduler.record(self.event("a", endpoints: [0, 1]), role: .none, now: Self.start) == .accepted(wake: true))
        #expect(scheduler.record(self.event("b", endpoints: [0, 1]), role: .none, now: Self.start) == .dropped)
        #expect(scheduler.record(self.event("c", endpoints: [1]), role: .none, now: Self.start) == .accepted(wake: false))
        #expect(scheduler.record(self.event("d"), role: self.vacatedRole, now: Self.start) == .dropped)
        #expect(scheduler.pendingEvents == 3)
    }

    @Test func drainingMakesHoldsAndWindowsDueAtOnce() {
        var scheduler = self.scheduler()
        _ = scheduler.record(self.event("vacated"), role: self.vacatedRole, now: Self.start)
        scheduler.beginDraining()
        #expect(self.texts(scheduler.takeDue(now: Self.start).batches) == [["vacated"]])
    }
}
