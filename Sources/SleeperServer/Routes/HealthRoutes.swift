import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// The process is up and serving.
    func health(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        .json("{\"status\": \"ok\"}\n")
    }

    /// The database answers and its schema is current. Answers at once whatever the database
    /// does: from the service's own probe (every second) and a schema check at most 10 s old that
    /// found it ready, else from a bounded look (half a second).
    func ready(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        if await liveness.isDown {
            let reason = await liveness.reason ?? "no answer"
            return Self.notReady("the database does not answer (\(reason))")
        }
        if await liveness.answered(within: .seconds(2)), let migrations = await readiness.recent() {
            return .json("{\"status\": \"ready\", \"migrations\": \(migrations)}\n")
        }
        let db = self.db
        guard let status = await DatabaseGate.within(seconds: 0.5, { try await MigrationRunner().status(db) }) else {
            return Self.notReady("the database did not answer within half a second")
        }
        if !status.pending.isEmpty {
            return Self.notReady("\(status.pending.count) migration(s) pending: run `sleeper migrate`")
        }
        await readiness.remember(migrations: status.applied.count)
        return .json("{\"status\": \"ready\", \"migrations\": \(status.applied.count)}\n")
    }

    static func notReady(_ reason: String) -> Response {
        var response = Response.json(JSONValue.obj([("status", .string("not_ready")), ("reason", .string(reason))]).pretty() + "\n", status: .serviceUnavailable)
        response.headers[.retryAfter] = String(APIError.retrySeconds)
        return response
    }

    func contract(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        .text(contractText, contentType: "application/yaml")
    }
}
