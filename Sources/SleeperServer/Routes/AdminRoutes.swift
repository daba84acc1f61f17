import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    func listTokens(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let objects = ListingRenderer.jsonObjects(TokenListing.listing(try await TokenStore(db).list()))
        return .page(of: objects, limit: pageMax, offset: 0)
    }

    /// `{"name": "...", "role": "viewer|editor|admin", "expires": "DATE"?}`; the token is in the answer, once.
    func createToken(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let data = try await request.data(limit: 64 << 10)
        let value: DocumentValue
        do { value = try JSONTreeParser.parse(data) } catch {
            throw APIError.invalid("the body is not JSON: \(error)", [("body", "\(error)")])
        }
        guard case .object(let fields) = value else { throw APIError.invalid("the body must be a JSON object {name, role, expires}", [("body", "expected an object")]) }
        guard case .string(let name)? = fields["name"] else { throw APIError.invalid("name is required", [("body: name", "required string")]) }
        guard case .string(let roleText)? = fields["role"], let role = AccessRole(rawValue: roleText) else {
            throw APIError.invalid("role must be viewer, editor or admin", [("body: role", "one of viewer, editor, admin")])
        }
        var expires: Date?
        if let field = fields["expires"] {
            guard case .string(let text) = field, let date = Timestamps.moment(text) else {
                throw APIError.invalid("expires must be a date (YYYY-MM-DD or ISO 8601)", [("body: expires", "not a date")])
            }
            expires = date
        }
        if let extra = fields.keys.sorted().first(where: { !["name", "role", "expires"].contains($0) }) {
            throw APIError.invalid("unknown field '\(extra)'", [("body: \(extra)", "not a field of a token request")])
        }
        let token = try await TokenStore(db).create(name: name, role: role, expires: expires, by: try caller.required().actor)
        return .json(JSONValue.obj([("name", .string(name)), ("role", .string(role.rawValue)), ("token", .string(token))]).pretty(), status: .created)
    }

    /// `?reason=` is required: a revocation says why.
    func revokeToken(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let reason = try QueryInput(request).string("reason") else {
            throw APIError.invalid("query parameter reason is required: say why the token is revoked", [("query: reason", "required")])
        }
        do { try await TokenStore(db).revoke(name: name, reason: reason, by: try caller.required().actor) } catch StoreError.invalidInput(let m) where m.hasPrefix("no active") {
            throw APIError.notFound(m)
        }
        return Response(status: .noContent)
    }

    func rotateToken(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let expires = try QueryInput(request).moment("expires")
        let token: String
        do { token = try await TokenStore(db).rotate(name: name, expires: expires, by: try caller.required().actor) } catch StoreError.invalidInput(let m) where m.hasPrefix("no active") {
            throw APIError.notFound(m)
        }
        return .json(JSONValue.obj([("name", .string(name)), ("token", .string(token))]).pretty(), status: .created)
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
