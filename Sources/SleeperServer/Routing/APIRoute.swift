import Hummingbird
import SleeperCore

typealias Handler = @Sendable (Request, APIContext, Caller?) async throws -> Response

/// One operation of the API: method, path (in the OpenAPI document's `{param}` form), the role
/// it needs (nil: open to all), and its handler. The list below is the only place routes are
/// declared; the router is built from it and a test checks it against `openapi.yaml`.
public struct APIRoute: Sendable {
    public let method: HTTPRequest.Method
    public let path: String
    public let role: AccessRole?
    let make: @Sendable (Handlers) -> Handler

    init(_ method: HTTPRequest.Method, _ path: String, _ role: AccessRole?, _ make: @escaping @Sendable (Handlers) -> Handler) {
        self.method = method
        self.path = path
        self.role = role
        self.make = make
    }

    /// Hummingbird writes parameters as `:name`.
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    /// Whether a concrete path fits this route's template (`{param}` matches one segment).
    func matches(_ path: String) -> Bool {
        let want = self.path.split(separator: "/", omittingEmptySubsequences: false)
        let have = path.split(separator: "/", omittingEmptySubsequences: false)
        guard want.count == have.count else { return false }
        return zip(want, have).allSatisfy { w, h in (w.hasPrefix("{") && w.hasSuffix("}") && !h.isEmpty) || w == h }
    }

    /// The methods served at a concrete path, in the table's order.
    static func methods(for path: String) -> [String] {
        var out: [String] = []
        for route in all where route.matches(path) && !out.contains(route.method.rawValue) { out.append(route.method.rawValue) }
        return out
    }

    /// The routes that answer from scores: before each, the rescores committed changes are owed
    /// are settled (or the answer says, in `Sleeper-Scores-Behind`, how far behind it is).
    static let readingScores: Set<String> = ["/v1/exposures", "/v1/exposures/diff", "/v1/explain/{subject}", "/v1/exports/{format}", "/v1/report"]

    public static let all: [APIRoute] = [
        APIRoute(.get, "/healthz", nil) { h in h.health },
        APIRoute(.get, "/readyz", nil) { h in h.ready },
        APIRoute(.get, "/metrics", nil) { h in h.metrics },
        APIRoute(.get, "/openapi.yaml", nil) { h in h.contract },

        APIRoute(.get, "/v1/inventory/{kind}", .viewer) { h in h.listInventory },
        APIRoute(.get, "/v1/inventory/{kind}/{key}", .viewer) { h in h.getInventory },
        APIRoute(.post, "/v1/inventory/import", .editor) { h in h.importInventory },

        APIRoute(.get, "/v1/evidence", .viewer) { h in h.listEvidence },
        APIRoute(.post, "/v1/evidence", .editor) { h in h.addEvidence },
        APIRoute(.post, "/v1/evidence/import", .editor) { h in h.addEvidence },
        APIRoute(.post, "/v1/evidence/ingest", .editor) { h in h.ingestReport },
        APIRoute(.post, "/v1/scans", .editor) { h in h.scan },
        APIRoute(.post, "/v1/traces", .editor) { h in h.traces },
        APIRoute(.get, "/v1/findings", .viewer) { h in h.findings },
        APIRoute(.post, "/v1/findings/{id}", .editor) { h in h.markFinding },
        APIRoute(.get, "/v1/evidence/verify", .viewer) { h in h.verifyLedger },

        APIRoute(.get, "/v1/frameworks", .viewer) { h in h.frameworks },
        APIRoute(.get, "/v1/controls", .viewer) { h in h.controls },
        APIRoute(.get, "/v1/controls/{id}", .viewer) { h in h.control },

        APIRoute(.get, "/v1/gaps", .viewer) { h in h.gaps },
        APIRoute(.get, "/v1/gaps/summary", .viewer) { h in h.gapSummary },
        APIRoute(.get, "/v1/coverage", .viewer) { h in h.coverage },

        APIRoute(.post, "/v1/scores", .editor) { h in h.runScoring },
        APIRoute(.get, "/v1/exposures", .viewer) { h in h.exposures },
        APIRoute(.get, "/v1/exposures/diff", .viewer) { h in h.diff },
        APIRoute(.get, "/v1/explain/{subject}", .viewer) { h in h.explain },
        APIRoute(.get, "/v1/exports/{format}", .viewer) { h in h.export },
        APIRoute(.get, "/v1/report", .viewer) { h in h.report },

        APIRoute(.post, "/v1/recalls", .editor) { h in h.recall },
        APIRoute(.post, "/v1/recalls/release", .editor) { h in h.release },
        APIRoute(.get, "/v1/actions", .viewer) { h in h.actions },
        APIRoute(.post, "/v1/actions/{id}/start", .editor) { h in h.startAction },
        APIRoute(.post, "/v1/acceptances", .editor) { h in h.accept },
        APIRoute(.get, "/v1/suppliers", .viewer) { h in h.suppliers },
        APIRoute(.post, "/v1/suppliers", .admin) { h in h.declareSupplier },
        APIRoute(.delete, "/v1/suppliers/{name}", .admin) { h in h.withdrawSupplier },
        APIRoute(.get, "/v1/signers", .viewer) { h in h.signers },
        APIRoute(.post, "/v1/signers", .admin) { h in h.trustSigner },

        APIRoute(.get, "/v1/tokens", .admin) { h in h.listTokens },
        APIRoute(.post, "/v1/tokens", .admin) { h in h.createToken },
        APIRoute(.delete, "/v1/tokens/{name}", .admin) { h in h.revokeToken },
        APIRoute(.post, "/v1/tokens/{name}/rotate", .admin) { h in h.rotateToken },
        APIRoute(.get, "/v1/audit", .admin) { h in h.audit },
    ]
}
