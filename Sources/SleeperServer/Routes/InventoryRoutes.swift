import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    func entityKind(_ context: APIContext) throws -> EntityKind {
        let text = context.parameters.get("kind") ?? ""
        guard let kind = EntityKind(rawValue: text) else {
            throw APIError.notFound("no inventory kind '\(text)' (models, datasets, agents, credentials, resources)")
        }
        return kind
    }

    /// A page of one kind, in key order, with the inventory file's field names.
    func listInventory(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let kind = try entityKind(context)
        let (limit, offset) = try QueryInput(request).page(max: pageMax)
        let inventory = try await InventoryStore(db).load([kind], page: .init(limit: limit + 1, offset: offset))
        let objects = ListingRenderer.jsonObjects(InventoryListing.listing(kind, of: inventory))
        return .page(Array(objects.prefix(limit)), limit: limit, offset: offset, hasMore: objects.count > limit)
    }

    func getInventory(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let kind = try entityKind(context)
        let key = context.parameters.get("key") ?? ""
        let inventory = try await InventoryStore(db).load([kind], page: .init(key: key, limit: 1))
        guard let object = ListingRenderer.jsonObjects(InventoryListing.listing(kind, of: inventory)).first else {
            throw APIError.notFound("no \(kind.rawValue.dropLast()) '\(key)'")
        }
        return .json(object + "\n")
    }

    /// An inventory document (YAML or JSON) in the body; validated in full, then written in one
    /// transaction, or refused with every problem located. `?dry_run=true` writes nothing.
    func importInventory(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send an inventory document (YAML or JSON)") }
        let dryRun = try QueryInput(request).oneOf("dry_run", ["true", "false"]) == "true"
        let parsed = InventoryReader.readAll(data, file: "body")
        let (summary, rescore) = try await IncrementalRescore(db).around(import: [parsed], actor: caller!.actor) {
            try await InventoryImporter(db).importFiles([parsed], dryRun: dryRun, actor: caller!.actor)
        }
        var body = summary.jsonValue
        if let rescore, case .object(var members) = body { members.append(("rescore", rescoreJSON(rescore))); body = .object(members) }
        return .json(body.pretty(), status: dryRun ? .ok : .created)
    }
}

extension Handlers {
    /// What an incremental rescore did: `{run, base_run, affected, duration_ms, full_run, summary}`.
    func rescoreJSON(_ o: IncrementalRescore.Outcome) -> JSONValue {
        .obj([("run", o.run.map(JSONValue.int) ?? .null), ("base_run", o.base.map(JSONValue.int) ?? .null), ("affected", .int(o.affected)),
              ("duration_ms", .int(o.durationMs)), ("full_run", .bool(o.wasFullRun)), ("summary", .string(o.summary))])
    }
}
