import NIOCore
import Synchronization

/// One ``LoopStatistics`` per event loop of the generator, plus a shared delivery count.
///
/// Per-loop counters keep the per-delivery cost to a few increments on memory no other
/// thread touches. The shared atomic exists for the closed-loop publisher (`--rate 0`),
/// which must know, while running, how far subscribers lag behind it.
final class StatisticsRegistry: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<LoopStatistics>]
    private let loops: [any EventLoop]
    private let deliveredCount = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)

    init(group: any EventLoopGroup) {
        let loops = Array(group.makeIterator())
        self.loops = loops
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<LoopStatistics>] = [:]
        for loop in loops {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(LoopStatistics(), eventLoop: loop)
        }
        self.boxes = boxes
    }

    /// The box of `loop`; handlers keep it and write to it only on that loop.
    func statistics(for loop: any EventLoop) -> NIOLoopBoundBox<LoopStatistics> {
        guard let box = self.boxes[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop \(loop) is not part of the generator's group")
        }
        return box
    }

    /// Deliveries across all loops so far; relaxed, so it may trail by a few.
    var delivered: Int { self.deliveredCount.load(ordering: .relaxed) }

    /// Set before the generator closes its own sockets, so those closes are not
    /// counted as disconnects.
    var isShuttingDown: Bool {
        get { self.shuttingDown.load(ordering: .relaxed) }
        set { self.shuttingDown.store(newValue, ordering: .relaxed) }
    }

    func recordDelivery() {
        self.deliveredCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// The sum of every loop's counters, each copied on its own loop.
    func snapshot() async throws -> LoopStatistics {
        var total = LoopStatistics()
        for loop in self.loops {
            let box = self.statistics(for: loop)
            total.add(try await loop.submit { box.value }.get())
        }
        return total
    }
}
