import Foundation

/// How long a scan may run, and whether whoever asked for it is still there. The scanners' long
/// loops (pickle opcodes, inflating, hashing, mining rows) look at it every few thousand steps
/// and stop early when it is spent; the caller then discards the partial result and says why —
/// a stopped scan proves nothing, so nothing of it is recorded.
///
/// The budget in force is the current thread's (`with`), so that the scanners' signatures stay
/// those of pure functions; work spread over other threads carries it there itself.
public final class ScanBudget: @unchecked Sendable {
    private let deadline: ContinuousClock.Instant?
    private let seconds: Double?
    private let lock = NSLock()
    private var reason: String?

    /// `seconds` nil: no deadline (stopped only by `stop`).
    public init(seconds: Double?) {
        self.seconds = seconds
        deadline = seconds.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
    }

    /// Stops the scan (the client went away): the next look at the budget says so.
    public func stop(_ why: String) {
        lock.withLock { if reason == nil { reason = why } }
    }

    /// Why the scan must stop, or nil while it may go on.
    public var stopped: String? {
        lock.withLock {
            if reason == nil, let deadline, ContinuousClock.now >= deadline {
                reason = "it ran past its deadline of \(seconds.map { String(format: "%g", $0) } ?? "?") s"
            }
            return reason
        }
    }

    private static let key = "sleeper.scan-budget"

    /// Runs `body` with `budget` in force on this thread.
    public static func with<T>(_ budget: ScanBudget?, _ body: () throws -> T) rethrows -> T {
        guard let budget else { return try body() }
        let dictionary = Thread.current.threadDictionary
        let before = dictionary[key]
        dictionary[key] = budget
        defer { dictionary[key] = before }
        return try body()
    }

    /// The budget in force on this thread.
    public static var current: ScanBudget? { Thread.current.threadDictionary[key] as? ScanBudget }

    /// Whether the scan in force on this thread must stop.
    public static func spent() -> Bool { current?.stopped != nil }
}
