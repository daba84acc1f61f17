import Foundation
import Hummingbird
import Prometheus
import SleeperCore
import SleeperStore

/// The handlers of every route, over one shared database pool. Each turns a request into a call
/// on the store and the core, and renders with the same renderers the CLI uses.
public struct Handlers: Sendable {
    let db: Database
    let limits: ServerLimits
    let metricsRegistry: PrometheusCollectorRegistry
    let contractText: String
    /// Whether the database answers, probed every second by the service.
    let liveness: DatabaseLiveness
    let reportRules: ReportRules
    /// Directories whose files `POST /v1/scans` may read by path (`serve --scan-root`); none by default.
    var scanRoots: [String] = []
    /// The last schema check that found the database ready, shared by every copy of the handlers.
    var readiness = ReadinessMemo()
    var gate: DatabaseGate { DatabaseGate(liveness: liveness) }
    /// Refusals per source and minute: aggregated in the audit log, rate-limited past a bound.
    var refusals: RefusalGuard { limits.refusals }

    var pageMax: Int { limits.maxPageSize }
}

extension Handlers {
    /// Settles what committed changes are owed before an answer from scores; nil when the scores
    /// are current, else how far behind they are (for the `Sleeper-Scores-Behind` header).
    func settleOwed() async -> String? {
        guard case .behind(let behind, let why) = await IncrementalRescore(db).settleOwed(actor: "sleeper-serve") else { return nil }
        db.logger.warning("\(behind.summary) (settling failed: \(why))")
        return "\(behind.changes) committed change(s) since \(Timestamps.format(behind.since)) not yet scored"
    }
}
