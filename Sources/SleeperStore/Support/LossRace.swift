import Foundation
import NIOConcurrencyHelpers

/// How work raced against the loss of its database ended.
public enum LossRaceOutcome<T: Sendable>: Sendable {
    /// The work ended on its own, the database being up or not yet missed.
    case finished(Result<T, any Error>)
    /// The database went away first; the work was cancelled and then gave its own account
    /// (a value committed before the loss, or its verdict on what was written).
    case finishedAfterLoss(Result<T, any Error>)
    /// The database went away and the work gave no account within the patience allowed: it may
    /// still be running, and whether it changed anything cannot be told here.
    case abandoned
}

/// Runs `work`, racing it against `lost` (which returns when the database is judged gone). When
/// `lost` wins, `work` is cancelled and given `patience` to say what became of it; after that
/// it is abandoned (left running, unawaited), so that a driver stuck on a dead socket can never
/// hold the caller. The work runs in unstructured tasks for exactly that reason: a task group
/// would wait for it.
public func raceAgainstLoss<T: Sendable>(
    patience: Duration,
    lost: @escaping @Sendable () async -> Void,
    _ work: @escaping @Sendable () async throws -> T
) async -> LossRaceOutcome<T> {
    let state = NIOLockedValueBox(RaceState<T>())
    return await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<LossRaceOutcome<T>, Never>) in
            state.withLockedValue { $0.continuation = continuation }
            let worker = Task {
                let result: Result<T, any Error>
                do { result = .success(try await work()) } catch { result = .failure(error) }
                RaceState.finish(state) { $0.lossSeen ? .finishedAfterLoss(result) : .finished(result) }
            }
            let watcher = Task {
                await lost()
                guard !Task.isCancelled else { return }
                let first = state.withLockedValue { s -> Bool in
                    guard s.continuation != nil else { return false }
                    s.lossSeen = true
                    return true
                }
                guard first else { return }
                worker.cancel()
                try? await Task.sleep(for: patience)
                RaceState.finish(state) { _ in .abandoned }
            }
            state.withLockedValue { $0.tasks = [worker, watcher] }
            // The watcher is needed only while the work runs.
            Task {
                await worker.value; watcher.cancel()
            }
        }
    } onCancel: {
        for task in state.withLockedValue({ $0.tasks }) { task.cancel() }
    }
}

struct RaceState<T: Sendable>: Sendable {
    var continuation: CheckedContinuation<LossRaceOutcome<T>, Never>?
    var lossSeen = false
    var tasks: [Task<Void, Never>] = []

    /// Resumes the caller once, with the first outcome; later ones are dropped.
    static func finish(_ box: NIOLockedValueBox<RaceState<T>>, _ outcome: (RaceState<T>) -> LossRaceOutcome<T>) {
        let resume = box.withLockedValue { s -> (CheckedContinuation<LossRaceOutcome<T>, Never>, LossRaceOutcome<T>)? in
            guard let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, outcome(s))
        }
        if let (continuation, outcome) = resume { continuation.resume(returning: outcome) }
    }
}
