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
    var gate: DatabaseGate { DatabaseGate(liveness: liveness) }

    var pageMax: Int { limits.maxPageSize }
}
