import Foundation
import Testing

@testable import SleeperStore

/// A wait on the driver has an end even when what it waits on ignores cancellation: a task group
/// cannot give that (it waits for every child), so these bounds do not use one.
@Suite("Bounded waits", .timeLimit(.minutes(2)))
struct BoundedWaitTests {
    /// Resumes after `seconds` whatever happens to the task that waits on it, as a socket the
    /// driver never hears from would.
    static func deaf(_ seconds: Double) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { continuation.resume(returning: 1) }
        }
    }

    @Test("withTimeout ends at its bound when the operation ignores cancellation (it waited the operation's 100 s)")
    func timeoutIsABound() async throws {
        let started = ContinuousClock.now
        await #expect(throws: StoreError.self) { try await withTimeout(seconds: 1) { await Self.deaf(100) } }
        let took = ContinuousClock.now - started
        // The bound is far from both ends: a busy machine delays the timer, never by 50 s.
        #expect(took < .seconds(50), "took \(took)")
    }

    @Test("withinSeconds gives the result of an operation that ends in time, and nil for one that does not")
    func withinGivesResults() async throws {
        let quick = await withinSeconds(30) { 7 }
        #expect(try quick?.get() == 7)
        let started = ContinuousClock.now
        let slow = await withinSeconds(0.5) { await Self.deaf(100) }
        #expect(slow == nil)
        #expect(ContinuousClock.now - started < .seconds(50))
    }
}
