import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

/// Every error the API returns has one JSON shape:
/// `{"error": {"status": 400, "code": "invalid_input", "message": "...", "details": [{"location": "...", "message": "..."}]}}`.
/// No stack trace or internal message reaches a client.
public struct APIError: Error, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [(location: String, message: String)] = []
    /// For 405: the methods the path does serve.
    var allow: String?
    /// For 503: when to try again, in seconds.
    var retryAfter: Int?

    public var headers: HTTPFields {
        var h: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { h[.wwwAuthenticate] = "Bearer realm=\"sleeper\"" }
        if let allow { h[.allow] = allow }
        if let retryAfter { h[.retryAfter] = String(retryAfter) }
        return h
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    public var body: String {
        JSONValue.obj([
            (
                "error",
                .obj([
                    ("status", .int(Int(status.code))),
                    ("code", .string(code)),
                    // No answer repeats a value judged secret, whatever put it into the message.
                    ("message", .string(SecretScanner.redacted(message))),
                    ("details", .array(details.map { .obj([("location", .string(SecretScanner.redacted($0.location))), ("message", .string(SecretScanner.redacted($0.message)))]) })),
                ])
            )
        ]).pretty()
    }

    static func invalid(_ message: String, _ details: [(String, String)] = []) -> APIError {
        APIError(status: .badRequest, code: "invalid_input", message: message, details: details.map { (location: $0.0, message: $0.1) })
    }
    /// The database is down: every request that needs it gets this at once, with a hint of when
    /// to come back (the server checks the database every second).
    static let retrySeconds = 2
    static let databaseUnavailable = APIError(
        status: .serviceUnavailable, code: "database_unavailable",
        message: "the database is not reachable; nothing was written, retry later", retryAfter: retrySeconds)
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static let unauthorized = APIError(
        status: .unauthorized, code: "unauthorized",
        message: "send `Authorization: Bearer TOKEN` with a token from `sleeper token create`")
    static func forbidden(_ caller: Caller, needs role: AccessRole) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: "token '\(caller.name)' has role \(caller.role.rawValue); this needs \(role.rawValue)")
    }

    /// A file path the server was asked to read but may not (`serve --scan-root`).
    static func pathNotAllowed(_ message: String) -> APIError { APIError(status: .forbidden, code: "path_not_allowed", message: message) }

    /// The problems of an import or evidence record, each located in the request body.
    static func problems(_ p: InventoryProblems) -> APIError {
        let listed = p.problems.prefix(InventoryProblems.listed).map { ($0.path.isEmpty ? "body" : "body: \($0.path)", $0.message) }
        let counted = InventoryProblems.kinds(of: p.problems.dropFirst(InventoryProblems.listed)).map { ("body", "\($1) more: \($0)") }
        return invalid("the request was refused and nothing was written: \(p.problems.count) problem(s)", listed + counted)
    }
}

/// Turns whatever a handler throws into an `APIError`, logging the ones that are our fault.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as InventoryProblems {
            throw APIError.problems(error)
        } catch let error as StoreErrorReadable {
            throw error.apiError
        } catch let error as HTTPError {
            // A path the API has, asked with a method it does not serve: 405 and the methods it does.
            if error.status == .notFound, case let allowed = APIRoute.methods(for: request.uri.path), !allowed.isEmpty {
                var e = APIError(
                    status: .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.method.rawValue) is not served here; use \(allowed.joined(separator: ", "))")
                e.allow = allowed.joined(separator: ", ")
                throw e
            }
            throw APIError(status: error.status, code: Self.code(error.status), message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw APIError(
                status: error.status, code: Self.code(error.status),
                message: error.status == .contentTooLarge
                    ? "the request body is larger than the server accepts (see `sleeper serve --max-body-mb`)" : error.status.reasonPhrase)
        } catch  where StoreError.isConnectionLoss(error) {
            // The driver's own word that the connection went (not wrapped by the store).
            var e = APIError.databaseUnavailable
            e.message = "the database is not reachable; retry later"
            throw e
        } catch {
            // The store's words for it: never the driver's reflection, which quotes the query and a
            // failing row's values.
            context.logger.error("request failed: \(SecretScanner.redacted(StoreError.describe(error)))", metadata: ["path": "\(request.uri.path)"])
            throw APIError(status: .internalServerError, code: "internal", message: "internal error; the server log has the details")
        }
    }

    static func code(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 413: return "body_too_large"
        case 400: return "invalid_input"
        default: return status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        }
    }
}

/// Store errors that carry a message meant for the caller.
protocol StoreErrorReadable: Error { var apiError: APIError { get } }

extension StoreError: StoreErrorReadable {
    var apiError: APIError {
        switch self {
        case .invalidInput(let message): return .invalid(message)
        case .notFound(let message): return .notFound(message)
        case .conflict(let message): return APIError(status: .conflict, code: "conflict", message: message)
        case .pathNotAllowed(let message): return .pathNotAllowed("path: " + message)
        case .scanStopped: return APIError(status: .unprocessableContent, code: "scan_stopped", message: "\(self) (see `sleeper serve --scan-seconds`)")
        case .unverifiedLedger(let problems):
            return APIError(
                status: .conflict, code: "ledger_unverified", message: "the ledgers do not verify, so nothing was exported or reported; run `sleeper verify`",
                details: problems.map { (location: "ledger", message: $0) })
        case .unreachable, .timedOut, .connectionLost, .lostBeforeCommit:
            return .databaseUnavailable
        case .commitUnknown(let xid):
            return APIError(
                status: .serviceUnavailable, code: "commit_unknown",
                message: "the database went away while committing transaction \(xid); whether the change stands is unknown until it is back (see the audit log)",
                retryAfter: APIError.retrySeconds)
        case .outcomeUnknown:
            return APIError(
                status: .serviceUnavailable, code: "outcome_unknown",
                message:
                    "the database went away while this request ran and it did not end; whether it changed anything is unknown until the database is back (see the audit log; a retry with the same Idempotency-Key is never applied twice)",
                retryAfter: APIError.retrySeconds)
        default: return APIError(status: .internalServerError, code: "internal", message: "internal error; the server log has the details")
        }
    }
}
