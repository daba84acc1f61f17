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
        if let id = try q.string("framework") {
            guard let framework = catalog.framework(matching: id) else { throw APIError.notFound(catalog.unknownFramework(id)) }
            listing = CatalogListing.items(framework, catalog: catalog)
        } else {
            listing = CatalogListing.controls(catalog)
        }
        return .page(of: ListingRenderer.jsonObjects(listing), limit: limit, offset: offset)
    }

    /// One control with its mappings, or a framework item (ASI04, the alias A2, GOVERN 6.1) with
    /// the controls reaching it: the IDs `sleeper controls show` answers, case aside.
    func control(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        let id = raw.removingPercentEncoding ?? raw
        let catalog = try await CatalogQueries(db).catalog()
        guard let listing = CatalogListing.lookup(id, in: catalog) else {
            let known = catalog.controls.map(\.id) + catalog.frameworks.flatMap { $0.items.map(\.id) }
            throw APIError.notFound("no control or framework item has the ID '\(id)'\(NearestName.hint(for: id, among: known))")
        }
        let objects = ListingRenderer.jsonObjects(listing)
        return .json(objects.count == 1 ? objects[0] + "\n" : "{\"items\": [\n  " + objects.joined(separator: ",\n  ") + "\n]}\n")
    }
}
