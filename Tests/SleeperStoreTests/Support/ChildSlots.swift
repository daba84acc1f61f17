import Foundation

/// How many one-shot `sleeper` (and python) children the tests run at once. Waiting for a child
/// holds no thread, so without a bound every suite started its commands together: 60 at once on
/// 2 cores, and time bounds meant for a busy machine were measured on a swamped one. A slot is
/// waited for asynchronously; long-lived children (a served API, a process a fault test kills)
/// take none, so a test holding a server never waits on another test's slot.
actor ChildSlots {
    static let shared = ChildSlots(limit: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))

    private let limit: Int
    private var inUse = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if inUse < limit { inUse += 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { inUse -= 1 } else { waiting.removeFirst().resume() }
    }

    /// `body` in a slot of the shared bound on child processes.
    static func run<T>(_ body: () async throws -> T) async rethrows -> T { try await shared.slot(body) }

    /// `body` in one of these slots.
    nonisolated func slot<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }
}

/// The same bound for commands run in process: each opens a pool of up to five connections, and
/// sixty at once would only wait on each other.
enum CommandSlots {
    static let shared = ChildSlots(limit: 6)

    static func run<T>(_ body: () async throws -> T) async rethrows -> T { try await shared.slot(body) }
}
