import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    func frameworks(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let rows = try await CatalogQueries(db).frameworks()
        let listing = CatalogListing.frameworks(rows.map { ($0.id, $0.name, $0.edition, $0.items, $0.mappedItems, $0.licence) })
        return .page(of: ListingRenderer.jsonObjects(listing), limit: pageMax, offset: 0)
    }

    /// Sleeper's controls, or with `?framework=ID` that framework's items and the controls reaching each.
    func controls(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let catalog = try await CatalogQueries(db).catalog()
        let listing: Listing
        if let id = q.string("framework") {
            guard let framework = catalog.framework(id) else { throw APIError.invalid("query parameter framework: unknown framework '\(id)'", [("query: framework", "unknown framework")]) }
            listing = CatalogListing.items(framework, catalog: catalog)
        } else {
            listing = CatalogListing.controls(catalog)
        }
        return .page(of: ListingRenderer.jsonObjects(listing), limit: limit, offset: offset)
    }

    /// One control with its mappings.
    func control(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let catalog = try await CatalogQueries(db).catalog()
        guard let row = CatalogListing.controls(catalog).rows.first(where: { $0.first == .text(id) }) else {
            throw APIError.notFound("no control '\(id)' (see GET /v1/controls)")
        }
        let listing = Listing(columns: CatalogListing.controls(catalog).columns, rows: [row])
        return .json(ListingRenderer.jsonObjects(listing)[0] + "\n")
    }
}
