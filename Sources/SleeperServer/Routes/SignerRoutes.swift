import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// `sleeper signers` over HTTP.
    func signers(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let declared = try await TrustedSigners(db).all()
        return .json(
            JSONValue.array(
                declared.map { s in
                    .obj([
                        ("model", s.model.map(JSONValue.string)), ("supplier", s.supplier.map(JSONValue.string)), ("signer", .string(s.signer)),
                        ("declared_by", .string(s.by)), ("declared_at", .string(Timestamps.format(s.at))),
                    ])
                }
            ).pretty())
    }

    /// `{model | supplier, signer, by}`: `sleeper signers trust` over HTTP, audited.
    func trustSigner(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let (body, c, data) = try await fields(request, what: "{model | supplier, signer, by}")
        c.refuseUnknownFields(body, known: ["model", "supplier", "signer", "by"], what: "a signer declaration")
        let model = c.string(body["model"]), supplier = c.string(body["supplier"])
        let signer = c.string(body["signer"], required: true), by = c.string(body["by"], required: true)
        if (model == nil) == (supplier == nil) { c.report("model", "give model or supplier (one of them)") }
        guard let signer, let by, c.problems.isEmpty else { throw APIError.problems(InventoryProblems(c.problems)) }
        return try await idempotent(request, body: data, caller: caller) {
            try await TrustedSigners(db).trust(model: model, supplier: supplier, signer: signer, by: by, actor: caller.actor)
            return (.created, JSONValue.obj([("model", model.map(JSONValue.string)), ("supplier", supplier.map(JSONValue.string)), ("signer", .string(signer))]).pretty())
        }
    }
}
