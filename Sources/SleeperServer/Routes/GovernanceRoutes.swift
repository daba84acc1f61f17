import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    func knownFramework(_ id: String?) async throws {
        if let id, try await CatalogQueries(db).items(framework: id) == nil {
            throw APIError.invalid("query parameter framework: unknown framework '\(id)'", [("query: framework", "unknown framework")])
        }
    }

    /// Controls lacking valid evidence, filtered like `sleeper gaps`.
    func gaps(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let framework = q.string("framework")
        try await knownFramework(framework)
        let rows = try await EvidenceQueries(db).gaps(asOf: try q.date("as_of") ?? SleeperClock.now(), framework: framework,
                                                      subject: try q.subject("subject"), owner: q.string("owner"))
        return .page(of: ListingRenderer.jsonObjects(EvidenceListing.gaps(rows, byFramework: framework != nil)), limit: limit, offset: offset)
    }

    func coverage(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        guard let framework = q.string("framework") else {
            throw APIError.invalid("query parameter framework is required", [("query: framework", "required")])
        }
        try await knownFramework(framework)
        let asOf = try q.date("as_of") ?? SleeperClock.now()
        let rows = try await EvidenceQueries(db).coverage(framework: framework, asOf: asOf)
        return .json(EvidenceListing.coverage(rows, framework: framework, asOf: asOf, format: .json))
    }
}
