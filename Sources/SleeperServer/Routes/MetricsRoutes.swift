import Foundation
import Hummingbird
import Metrics
import Prometheus
import SleeperCore
import SleeperStore

/// Prometheus exposition: request counts and latency histograms by route and status (recorded by
/// Hummingbird's MetricsMiddleware into swift-prometheus), the pool's connections as PostgreSQL
/// sees them, and the last scoring run.
enum ServerMetrics {
    /// The process's registry: swift-metrics takes one backend per process, so a second service
    /// run in the same process (the tests run several) shares the first one's.
    static let shared: PrometheusCollectorRegistry = bootstrap()

    /// Installs swift-prometheus as the process's metrics backend, with Prometheus-style names.
    private static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            let names = [
                "hb.requests": "sleeper_http_requests_total",
                "http.server.request.duration": "sleeper_http_request_duration_seconds",
                "hb.request.errors": "sleeper_http_request_errors_total",
                "http.server.active_requests": "sleeper_http_active_requests",
            ]
            let labelNames = ["http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status"]
            return (names[name] ?? name.replacingOccurrences(of: ".", with: "_"), labels.map { (labelNames[$0.0] ?? $0.0.replacingOccurrences(of: ".", with: "_"), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }
}

extension Handlers {
    func metrics(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        var buffer: [UInt8] = []
        metricsRegistry.emit(into: &buffer)
        var text = String(decoding: buffer, as: UTF8.self)
        text += "# TYPE sleeper_db_pool_max_connections gauge\nsleeper_db_pool_max_connections \(db.maximumConnections)\n"
        // While the database is down the metrics still answer at once, saying so.
        let db = self.db
        let stored: String? =
            await liveness.isDown
            ? nil
            : await DatabaseGate.within(seconds: 1) {
                var text = ""
                for try await (open, busy) in try await db.client.query(
                    """
                    SELECT count(*)::int, count(*) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid())::int
                    FROM pg_stat_activity WHERE application_name = \(db.applicationName)
                    """, logger: db.logger
                ).decode((Int, Int).self) {
                    text += "# TYPE sleeper_db_pool_open_connections gauge\nsleeper_db_pool_open_connections \(open)\n"
                    text += "# TYPE sleeper_db_pool_busy_connections gauge\nsleeper_db_pool_busy_connections \(busy)\n"
                }
                for try await (id, ms, credentials) in try await db.client.query(
                    "SELECT id, duration_ms, credentials FROM score_runs ORDER BY id DESC LIMIT 1", logger: db.logger
                ).decode((Int, Int, Int).self) {
                    text += "# TYPE sleeper_last_scoring_run_duration_seconds gauge\nsleeper_last_scoring_run_duration_seconds \(Double(ms) / 1000)\n"
                    text += "# TYPE sleeper_last_scoring_run_id gauge\nsleeper_last_scoring_run_id \(id)\n"
                    text += "# TYPE sleeper_last_scoring_run_credentials gauge\nsleeper_last_scoring_run_credentials \(credentials)\n"
                }
                return text
            }
        text += (stored ?? "") + "# TYPE sleeper_db_up gauge\nsleeper_db_up \(stored == nil ? 0 : 1)\n"
        return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
