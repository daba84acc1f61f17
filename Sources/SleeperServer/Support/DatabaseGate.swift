import Foundation
import Hummingbird
import SleeperStore

/// Every request that needs the database passes here. While the database is known to be down the
/// answer is an immediate 503 with `Retry-After`, instead of a wait on the pool (which queues and
/// retries for a minute). A request already running when the database goes away is given its
/// own chance to say what became of it (nothing written, committed, or unknown), and is then
/// let go, so that no client waits on a dead socket.
struct DatabaseGate: Sendable {
    let liveness: DatabaseLiveness
    /// How long the database may be away before a request in flight is cancelled.
    var grace: Duration = .seconds(2)
    /// How long a cancelled request may take to give its account: longer than the store's own
    /// look-up of a transaction lost while committing (5 s).
    var patience: Duration = .seconds(6)

    func run(_ request: Request, _ work: @escaping @Sendable () async throws -> Response) async throws -> Response {
        if await liveness.isDown { throw APIError.databaseUnavailable }
        let (liveness, grace) = (self.liveness, self.grace)
        // A read changes nothing, so it has no account to wait for: it is answered at the grace's
        // end (one read in flight once took 8.8 s to get its 503, waiting out a write's patience).
        let reading = request.method == .get || request.method == .head
        switch await raceAgainstLoss(patience: reading ? .zero : patience, lost: { await liveness.waitUntilDown(for: grace) }, work) {
        case .finished(let result):
            return try result.get()
        case .finishedAfterLoss(.success(let response)):
            return response
        case .finishedAfterLoss(.failure(let error)):
            if error is StoreError || error is APIError { throw error }
            throw APIError.databaseUnavailable
        case .abandoned:
            // A read that never ended changed nothing; a write that never ended might have.
            if request.method == .get || request.method == .head { throw APIError.databaseUnavailable }
            throw StoreError.outcomeUnknown
        }
    }

    /// `work` if it ends within `seconds`, else nil: for answers that must come at once whatever
    /// the database does (readiness, metrics).
    static func within<T: Sendable>(seconds: Double, _ work: @escaping @Sendable () async throws -> T) async -> T? {
        let outcome = await raceAgainstLoss(patience: .zero, lost: { try? await Task.sleep(for: .seconds(seconds)) }, work)
        if case .finished(.success(let value)) = outcome { return value }
        return nil
    }
}
