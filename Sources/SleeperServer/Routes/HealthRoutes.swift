import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// The process is up and serving.
    func health(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        .json("{\"status\": \"ok\"}\n")
    }

    /// The database answers and its schema is current.
    func ready(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        do {
            let status = try await MigrationRunner().status(db)
            if !status.pending.isEmpty {
                return .json("{\"status\": \"not_ready\", \"reason\": \"\(status.pending.count) migration(s) pending: run `sleeper migrate`\"}\n", status: .serviceUnavailable)
            }
            return .json("{\"status\": \"ready\", \"migrations\": \(status.applied.count)}\n")
        } catch {
            return .json("{\"status\": \"not_ready\", \"reason\": \"the database is not reachable\"}\n", status: .serviceUnavailable)
        }
    }

    func contract(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        .text(contractText, contentType: "application/yaml")
    }
}
