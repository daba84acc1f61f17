import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

/// Limits the server enforces on every request.
public struct ServerLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxPageSize: Int
    public init(maxBodyBytes: Int = 64 << 20, maxPageSize: Int = 1000) {
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
    }
}

/// Builds the router from `APIRoute.all`: metrics outermost, then JSON errors, then for each
/// route a check of the bearer token and its role before the handler runs.
enum APIRouter {
    static func build(handlers: Handlers) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        let tokens = TokenStore(handlers.db)
        for route in APIRoute.all {
            let handler = route.make(handlers)
            let required = route.role
            router.on(RouterPath(route.routerPath), method: route.method) { request, context -> Response in
                guard let required else { return try await handler(request, context, nil) }
                let caller = try await authenticate(request, tokens)
                guard caller.role.allows(required) else { throw APIError.forbidden(caller, needs: required) }
                return try await handler(request, context, caller)
            }
        }
        return router
    }

    static func authenticate(_ request: Request, _ tokens: TokenStore) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIError.unauthorized }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let (name, role) = try await tokens.resolve(token) else { throw APIError.unauthorized }
        return Caller(name: name, role: role)
    }
}
