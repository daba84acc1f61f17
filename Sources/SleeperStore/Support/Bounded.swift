import Foundation

/// `operation`'s result, or nil when it has not ended within `seconds`: it is then cancelled and
/// left running, unawaited. A task group cannot bound a wait like this, because it waits for
/// every child before it returns, however long a child ignores its cancellation.
func withinSeconds<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let outcome = await raceAgainstLoss(patience: .zero, lost: { try? await Task.sleep(for: .seconds(seconds)) }, operation)
    switch outcome {
    case .finished(let result): return result
    case .finishedAfterLoss, .abandoned: return nil
    }
}

func withTimeout<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let result = await withinSeconds(seconds, operation) else { throw StoreError.timedOut(seconds: seconds) }
    return try result.get()
}
