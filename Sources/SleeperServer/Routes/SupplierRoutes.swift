import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// The suppliers the organisation declares as its own or allowed.
    func suppliers(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let list = try await OrganisationSuppliers(db).list()
        return .json(JSONValue.array(list.map(Self.supplierJSON)).pretty())
    }

    /// `{name, relation: own|allowed, by, reason}`: `sleeper suppliers declare` over HTTP.
    func declareSupplier(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let (body, c, data) = try await fields(request, what: "{name, relation: own|allowed, by, reason}")
        for field in (body.fields ?? [:]).keys.sorted() where !["name", "relation", "by", "reason"].contains(field) {
            c.report(body[field].path, "is not a field of a supplier declaration (name, relation, by, reason)")
        }
        let name = c.string(body["name"], required: true), by = c.string(body["by"], required: true), reason = c.string(body["reason"], required: true)
        let relation = c.enumeration(body["relation"], OrganisationSuppliers.Relation.self)
        if body["relation"].isMissing { c.report("relation", "is required (own or allowed)") }
        guard let name, let by, let reason, let relation, c.problems.isEmpty else { throw APIError.problems(InventoryProblems(c.problems)) }
        return try await idempotent(request, body: data, caller: caller) {
            let rescore = try await OrganisationSuppliers(db).declare(name, relation, by: by, reason: reason, actor: caller.actor)
            var members: [(String, JSONValue?)] = [("name", .string(name)), ("relation", .string(relation.rawValue))]
            if let rescore { members.append(("rescore", rescoreJSON(rescore))) }
            return (.created, JSONValue.obj(members).pretty())
        }
    }

    /// `DELETE /v1/suppliers/{name}?by=…&reason=…`: the declaration withdrawn, audited.
    func withdrawSupplier(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let name = context.parameters.get("name") ?? ""
        let query = QueryInput(request)
        guard let by = try query.string("by"), let reason = try query.string("reason") else {
            throw APIError.invalid("query parameters by and reason are required: say who withdraws the declaration and why", [("query: reason", "required")])
        }
        _ = try await OrganisationSuppliers(db).withdraw(name, by: by, reason: reason, actor: caller.actor)
        return Response(status: .noContent)
    }

    static func supplierJSON(_ s: OrganisationSuppliers.Supplier) -> JSONValue {
        .obj([
            ("name", .string(s.name)), ("relation", .string(s.relation.rawValue)), ("declared_by", .string(s.by)),
            ("declared_at", .string(Timestamps.format(s.at))), ("reason", .string(s.reason)),
        ])
    }
}
