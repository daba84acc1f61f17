import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    func listTokens(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let objects = try await TokenStore(db).list().map { t in
            JSONValue.obj([("name", .string(t.name)), ("role", .string(t.role.rawValue)), ("created_at", .string(Timestamps.format(t.createdAt))),
                           ("created_by", .string(t.createdBy)), ("revoked_at", t.revokedAt.map { .string(Timestamps.format($0)) } ?? .null)])
                .pretty().replacingOccurrences(of: "\n", with: " ")
        }
        return .page(of: objects, limit: pageMax, offset: 0)
    }

    /// `{"name": "...", "role": "viewer|editor|admin"}`; the token is in the answer, once.
    func createToken(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let data = try await request.data(limit: 64 << 10)
        let value: DocumentValue
        do { value = try JSONTreeParser.parse(data) } catch {
            throw APIError.invalid("the body is not JSON: \(error)", [("body", "\(error)")])
        }
        guard case .object(let fields) = value else { throw APIError.invalid("the body must be a JSON object {name, role}", [("body", "expected an object")]) }
        guard case .string(let name)? = fields["name"] else { throw APIError.invalid("name is required", [("body: name", "required string")]) }
        guard case .string(let roleText)? = fields["role"], let role = AccessRole(rawValue: roleText) else {
            throw APIError.invalid("role must be viewer, editor or admin", [("body: role", "one of viewer, editor, admin")])
        }
        if let extra = fields.keys.first(where: { $0 != "name" && $0 != "role" }) {
            throw APIError.invalid("unknown field '\(extra)'", [("body: \(extra)", "not a field of a token request")])
        }
        let token = try await TokenStore(db).create(name: name, role: role, by: try caller.required().actor)
        return .json(JSONValue.obj([("name", .string(name)), ("role", .string(role.rawValue)), ("token", .string(token))]).pretty(), status: .created)
    }

    func revokeToken(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        do { try await TokenStore(db).revoke(name: name, by: try caller.required().actor) } catch StoreError.invalidInput(let m) { throw APIError.notFound(m) }
        return Response(status: .noContent)
    }

    func audit(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let entries = try await AuditLog(db).entries(since: try q.date("since"), limit: limit + 1, offset: offset)
        let objects = entries.prefix(limit).map { e in
            "{\"id\": \(e.id), \"at\": \(JSONText.string(Timestamps.format(e.at))), \"actor\": \(JSONText.string(e.actor)), "
                + "\"action\": \(JSONText.string(e.action)), \"target\": \(e.target.map(JSONText.string) ?? "null"), \"detail\": \(e.detail)}"
        }
        return .page(Array(objects), limit: limit, offset: offset, hasMore: entries.count > limit)
    }
}
