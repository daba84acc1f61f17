import Foundation
import HTTPTypes
import Hummingbird
import SleeperCore
import SleeperStore

/// Limits the server enforces on every request.
public struct ServerLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxPageSize: Int
    /// How long an Idempotency-Key may stay in progress before a retry settles it.
    public var idempotencyPendingSeconds: Int
    /// Refusals per source and minute (audited once, rate-limited past its limit).
    let refusals: RefusalGuard
    /// How long one scan request may run before it is stopped (and nothing of it recorded).
    public var scanSeconds: Double
    public static let defaultScanSeconds: Double = 300
    public init(
        maxBodyBytes: Int = 64 << 20, maxPageSize: Int = 1000, idempotencyPendingSeconds: Int = IdempotencyKeys.defaultPendingSeconds,
        refusalsPerMinute: Int = RefusalGuard.defaultLimit, scanSeconds: Double = ServerLimits.defaultScanSeconds
    ) {
        self.scanSeconds = scanSeconds
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
        self.idempotencyPendingSeconds = idempotencyPendingSeconds
        self.refusals = RefusalGuard(limit: refusalsPerMinute)
    }
}

/// Builds the router from `APIRoute.all`: the drain's count of responses in flight outermost, then metrics, then JSON errors, then for each
/// route a check of the bearer token and its role before the handler runs.
enum APIRouter {
    static func build(handlers: Handlers, drain: Drain = Drain(limit: .seconds(30))) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: DrainMiddleware(drain: drain))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        let tokens = TokenStore(handlers.db)
        let contract = APIContract(yaml: handlers.contractText)
        for route in APIRoute.all {
            let handler = route.make(handlers)
            let required = route.role
            let (method, path) = (route.method.rawValue, route.path)
            router.on(RouterPath(route.routerPath), method: route.method) { request, context -> Response in
                let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
                let hasBody = length > 0 || request.headers[.transferEncoding] != nil
                @Sendable func checkShape() throws {
                    if let refusal = contract.refusal(
                        method: method, path: path, query: request.uri.queryParameters.map { String($0.key) },
                        contentType: request.headers[.contentType], hasBody: hasBody)
                    {
                        throw refusal
                    }
                }
                guard let required else { try checkShape(); return try await handler(request, context, nil) }
                // Everything from the token check on needs the database.
                // A source refused too often this minute is answered at once, without a token lookup.
                let source = context.sourceAddress
                if let wait = handlers.refusals.admit(source) {
                    throw APIError(
                        status: .tooManyRequests, code: "rate_limited",
                        message: "too many requests without a valid token from \(source) this minute (more than \(handlers.refusals.limit)); retry after the minute", retryAfter: wait)
                }
                return try await handlers.gate.run(request) {
                    let caller: Caller
                    do { caller = try await authenticate(request, tokens) } catch let error as APIError {
                        await refused(request, actor: "anonymous", source: source, error: error, handlers: handlers)
                        throw error
                    }
                    guard caller.role.allows(required) else {
                        let error = APIError.forbidden(caller, needs: required)
                        await refused(request, actor: caller.actor, source: source, error: error, handlers: handlers)
                        throw error
                    }
                    try checkShape()
                    // An answer from scores is current: what committed changes are owed is settled first.
                    guard APIRoute.readingScores.contains(path) else { return try await handler(request, context, caller) }
                    let behind = await handlers.settleOwed()
                    var response = try await handler(request, context, caller)
                    if let behind { response.headers[HTTPField.Name("Sleeper-Scores-Behind")!] = behind }
                    return response
                }
            }
        }
        return router
    }

    static func authenticate(_ request: Request, _ tokens: TokenStore) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIError.unauthorized }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        switch try await tokens.resolve(token) {
        case .success(let (name, role)): return Caller(name: name, role: role)
        case .failure(.unknown): throw APIError.unauthorized
        case .failure(.revoked): throw APIError(status: .unauthorized, code: "token_revoked", message: "this token was revoked")
        case .failure(.expired(let at)):
            throw APIError(
                status: .unauthorized, code: "token_expired",
                message: "this token expired at \(Timestamps.format(at)); ask an admin to rotate it (`sleeper token rotate`)")
        }
    }

    /// A refused request (401 or 403) goes into the audit log: who (the token's name, or
    /// anonymous), what was asked, and why it was refused. Never the token itself.
    /// The first refusal of a source in a minute is written at once; the rest of the minute is
    /// counted and written as one row when it is over (`RefusalGuard`).
    static func refused(_ request: Request, actor: String, source: String, error: APIError, handlers: Handlers) async {
        guard handlers.refusals.note(source: source, actor: actor, code: "\(error.status.code) \(error.code)", unauthenticated: error.status == .unauthorized) else { return }
        try? await AuditLog(handlers.db).record(
            actor: actor, action: "request.refused", target: "\(request.method.rawValue) \(request.uri.path)",
            detail: ["status": String(error.status.code), "code": error.code, "source": source])
    }
}
