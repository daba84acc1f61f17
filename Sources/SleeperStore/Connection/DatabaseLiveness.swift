import Foundation
import Logging

/// Whether the database server accepts connections, learnt by connecting on a connection of its
/// own (never the pool's, which queues and retries for a minute before it gives up).
///
/// A command watches it to end within seconds of its server going away; the service watches it
/// all the time, so that `/readyz` and every database-backed request can answer at once while
/// the server is down instead of waiting on the pool.
public actor DatabaseLiveness {
    let settings: ConnectionSettings
    let logger: Logger
    let probeTimeout: Double
    /// When the server was first found not answering, in the current outage; nil while it answers.
    public private(set) var downSince: ContinuousClock.Instant?
    /// Why the last probe failed, for readiness answers and logs.
    public private(set) var reason: String?
    /// When a probe last found the server answering.
    public private(set) var lastAnswered: ContinuousClock.Instant?
    /// Probes failed in a row. A refused connection is an outage at once; a probe that only ran
    /// out of time counts from the second in a row (on a starved machine one slow connect marked
    /// a healthy database down, and the service answered 503 to requests that would have worked).
    private var failures = 0

    public init(_ settings: ConnectionSettings, logger: Logger, probeTimeout: Double = 1) {
        self.settings = settings
        self.logger = logger
        self.probeTimeout = probeTimeout
    }

    public var isDown: Bool { downSince != nil }

    /// Whether a probe found the server answering within the last `window`.
    public func answered(within window: Duration) -> Bool {
        lastAnswered.map { ContinuousClock.now - $0 <= window } ?? false
    }

    /// Whether the server has been down for at least `grace`.
    public func isDown(for grace: Duration) -> Bool {
        downSince.map { ContinuousClock.now - $0 >= grace } ?? false
    }

    /// Connects once, bounded by the probe timeout, and records what it found.
    @discardableResult
    public func probe() async -> Bool {
        do {
            try await Database.preflight(settings, logger: logger, timeout: probeTimeout)
            if let since = downSince {
                logger.notice("the database answers again after \(ContinuousClock.now - since)")
            }
            downSince = nil
            reason = nil
            failures = 0
            lastAnswered = .now
            return true
        } catch {
            // A probe cut short by the watcher's own end says nothing about the server.
            if Task.isCancelled { return !isDown }
            failures += 1
            let said = StoreError.describe(error).lowercased()
            let onlySlow = said.contains("no answer within") || said.contains("timeout") || said.contains("timed out")
            if downSince == nil, onlySlow, failures < 2 { return true }
            if downSince == nil {
                downSince = .now
                logger.warning("the database does not answer: \(StoreError.describe(error))")
            }
            reason = StoreError.describe(error)
            return false
        }
    }

    /// Probes every `interval` until the task is cancelled or, with `returningAfterDown`, until the
    /// server has been down that long.
    public func watch(every interval: Duration, returningAfterDown grace: Duration? = nil) async {
        while !Task.isCancelled {
            await probe()
            if let grace, isDown(for: grace) { return }
            try? await Task.sleep(for: interval)
        }
    }

    /// Returns once the server has been down for `grace` (as found by whoever is probing), or
    /// when the task is cancelled.
    public nonisolated func waitUntilDown(for grace: Duration) async {
        while !Task.isCancelled {
            if await isDown(for: grace) { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
