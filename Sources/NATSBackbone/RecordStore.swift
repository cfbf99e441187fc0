/// A value kept under one key of a key-value bucket.
protocol BucketRecord: Equatable {
    /// The record of a key nobody has written.
    init()
    init(decoding bytes: [UInt8]) throws
    var encoded: [UInt8] { get }
}

/// Why a record could not be read or changed.
enum RecordUpdateError<Refusal: Error>: Error, CustomStringConvertible {
    /// The change itself refused (a full presence channel).
    case refused(Refusal)
    case unavailable
    case nats(NATSError)
    case contended
    case malformed

    var description: String {
        switch self {
        case .refused(let refusal): "\(refusal)"
        case .unavailable: "not connected to NATS"
        case .nats(let error): error.description
        case .contended: "too many concurrent changes"
        case .malformed: "stored record is not one this node can read"
        }
    }
}

/// Reads and changes records of one bucket by compare-and-set on the key's revision:
/// every node changes a record from the version it read, and a node that lost the race
/// reads again. Exactly one node therefore sees each transition (a user's first socket,
/// a channel's first node), and that node announces it.
///
/// Every method blocks on NATS and runs on the backbone's thread pool.
struct RecordStore<Record: BucketRecord>: Sendable {
    /// Attempts before giving up on a key under heavy churn.
    private static var maximumAttempts: Int { 32 }

    /// The bucket while NATS is reachable.
    let bucket: @Sendable () -> KeyValueBucket?

    func read(_ key: String) throws(RecordUpdateError<Never>) -> (record: Record, revision: UInt64)? {
        guard let bucket = self.bucket() else { throw .unavailable }
        let entry: KeyValueBucket.Entry?
        do {
            entry = try bucket.get(key)
        } catch {
            throw .nats(error)
        }
        guard let entry else { return nil }
        do {
            return (try Record(decoding: entry.value), entry.revision)
        } catch {
            throw .malformed
        }
    }

    /// Applies `change` to the current record and writes it back if nobody wrote in
    /// between; otherwise reads again. An unchanged record is not written.
    /// - Returns: the record before and after the change, and its revision after.
    func update<Refusal: Error>(
        _ key: String,
        _ change: (inout Record) throws(Refusal) -> Void
    ) throws(RecordUpdateError<Refusal>) -> (before: Record, after: Record, revision: UInt64) {
        guard let bucket = self.bucket() else { throw .unavailable }
        for _ in 0..<Self.maximumAttempts {
            let current: (record: Record, revision: UInt64)?
            do {
                current = try self.read(key)
            } catch {
                throw error.widened()
            }
            let before = current?.record ?? Record()
            var record = before
            do {
                try change(&record)
            } catch {
                throw .refused(error)
            }
            guard record != before else { return (before, record, current?.revision ?? 0) }
            do {
                return (before, record, try bucket.write(key, record.encoded, ifRevision: current?.revision ?? 0))
            } catch {
                switch error {
                case .conflict: continue
                case .failed(let error): throw .nats(error)
                }
            }
        }
        throw .contended
    }
}

extension RecordUpdateError where Refusal == Never {
    /// The same failure, from a call whose change may refuse.
    func widened<Other: Error>() -> RecordUpdateError<Other> {
        switch self {
        case .unavailable: .unavailable
        case .nats(let error): .nats(error)
        case .contended: .contended
        case .malformed: .malformed
        }
    }
}
