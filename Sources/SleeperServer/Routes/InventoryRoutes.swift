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
        let caller = try caller.required()
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send an inventory document (YAML or JSON) or a file of a source") }
        let query = QueryInput(request)
        let dryRun = try query.oneOf("dry_run", ["true", "false"]) == "true"
        let lenient = try query.oneOf("lenient", ["true", "false"]) == "true"
        let format = try query.oneOf("from", SourceFormat.allCases.map(\.rawValue)).flatMap(SourceFormat.init(rawValue:))
        // A source's snapshot may remove at most this share of what the source listed (a truncated export must not wipe an estate).
        let removals = RemovalGuard(
            maximumShare: Double(try query.int("max_removals", in: 0...100) ?? Int(RemovalGuard.defaultShare * 100)) / 100,
            allowed: try query.oneOf("allow_removals", ["true", "false"]) == "true")
        // The same reading as `sleeper import`: the format told from the content unless named.
        let parsed = EstateReader.read(data, file: "body", format: format, source: try query.string("source"), lenient: lenient)
        return try await idempotent(request, body: data, caller: caller) {
            let (summary, rescore) = try await ScoredChanges(db).importInventory([parsed], dryRun: dryRun, removals: removals, actor: caller.actor)
            var body = summary.jsonValue
            if case .object(var members) = body {
                if let rescore { members.append(("rescore", rescoreJSON(rescore))) }
                if !parsed.warnings.isEmpty {
                    members.append(("warnings", .array(parsed.warnings.map { .obj([("location", .string("body: \($0.path)")), ("message", .string($0.message))]) })))
                }
                body = .object(members)
            }
            return (dryRun ? .ok : .created, body.pretty())
        }
    }
}

extension Handlers {
    /// What the rescore after a committed change did: `{run, base_run, affected, duration_ms,
    /// full_run, summary}`, or `{failed: true, error, summary}` when it failed (the write stands).
    func rescoreJSON(_ r: ScoredChanges.Rescore) -> JSONValue {
        switch r {
        case .done(let o):
            return .obj([
                ("run", o.run.map(JSONValue.int) ?? .null), ("base_run", o.base.map(JSONValue.int) ?? .null), ("affected", .int(o.affected)),
                ("duration_ms", .int(o.durationMs)), ("full_run", .bool(o.wasFullRun)), ("failed", .bool(false)), ("summary", .string(o.summary)),
            ])
        case .failed(let error):
            return .obj([("failed", .bool(true)), ("error", .string(error)), ("summary", .string(r.summary))])
        }
    }
}
