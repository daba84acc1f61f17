import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// The framework a query names, matched without regard to case; an unknown one is a 404 listing the known ones.
    func knownFramework(_ id: String?) async throws -> String? {
        guard let id else { return nil }
        return try await ReferenceLookup(db).framework(id)
    }

    /// Controls lacking valid evidence, filtered like `sleeper gaps`.
    func gaps(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let framework = try await knownFramework(q.string("framework"))
        let subject = try q.subject("subject"), owner = try q.string("owner")
        if let subject { try await ReferenceLookup(db).requireSubject(subject) }
        if let owner { try await ReferenceLookup(db).requireOwner(owner) }
        let basis = try q.basis()
        let asOf = try q.moment("as_of") ?? SleeperClock.now()
        guard framework != nil else {
            // By subject, the page is cut in the query (one row more says whether another follows):
            // the whole listing of a million-credential estate is millions of rows.
            let rows = try await EvidenceQueries(db).gaps(asOf: asOf, subject: subject, owner: owner, basis: basis, limit: limit + 1, offset: offset)
            let objects = ListingRenderer.jsonObjects(EvidenceListing.gaps(Array(rows.prefix(limit)), byFramework: false))
            return .page(objects, limit: limit, offset: offset, hasMore: rows.count > limit)
        }
        // By item, rows are grouped first, then cut.
        let rows = try await EvidenceQueries(db).gaps(asOf: asOf, framework: framework, subject: subject, owner: owner, basis: basis)
        return .page(of: ListingRenderer.jsonObjects(EvidenceListing.gaps(rows, byFramework: true)), limit: limit, offset: offset)
    }

    /// How many subjects have each kind of gap in each control (or, with `framework`, under each
    /// of its items), as `sleeper gaps` answers without a filter.
    func gapSummary(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let framework = try await knownFramework(q.string("framework"))
        let asOf = try q.moment("as_of") ?? SleeperClock.now()
        let counts = try await EvidenceQueries(db).gapSummary(asOf: asOf, basis: try q.basis())
        return .json(ListingRenderer.render(EvidenceListing.gapSummary(counts, framework: framework), as: .json))
    }

    func coverage(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        guard let asked = try q.string("framework"), let framework = try await knownFramework(asked) else {
            throw APIError.invalid("query parameter framework is required", [("query: framework", "required")])
        }
        let asOf = try q.moment("as_of") ?? SleeperClock.now()
        let basis = try q.basis()
        let rows = try await EvidenceQueries(db).coverage(framework: framework, asOf: asOf, basis: basis)
        return .json(EvidenceListing.coverage(rows, framework: framework, asOf: asOf, format: .json))
    }
}
