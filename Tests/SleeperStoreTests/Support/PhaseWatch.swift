import Foundation

/// Where each test's database work is, watched from a thread of its own (not the cooperative
/// pool, which a hang may hold): a phase still open after `patience` seconds is printed once to
/// stderr with its test's database, so that a run that hangs says where.
final class PhaseWatch: @unchecked Sendable {
    static let shared = PhaseWatch()
    private let lock = NSLock()
    private var open: [Int: (name: String, since: Date, patience: TimeInterval, reported: Bool)] = [:]
    private var next = 0

    private init() {
        let thread = Thread { [unowned self] in
            while true {
                Thread.sleep(forTimeInterval: 5)
                self.report()
            }
        }
        thread.name = "sleeper.tests.phase-watch"
        thread.start()
    }

    /// `patience`: a test's body may take as long as its time limit (15 minutes at most); the
    /// database's own steps (create, open, migrate, close, drop) take seconds.
    func begin(_ name: String, patience: TimeInterval = 60) -> Int {
        lock.lock(); defer { lock.unlock() }
        next += 1
        open[next] = (name, Date(), patience, false)
        return next
    }

    func end(_ id: Int) {
        lock.lock(); defer { lock.unlock() }
        open[id] = nil
    }

    /// `body` as the phase `name`.
    func watch<T>(_ name: String, patience: TimeInterval = 60, _ body: () async throws -> T) async rethrows -> T {
        let id = begin(name, patience: patience)
        defer { end(id) }
        return try await body()
    }

    private func report() {
        lock.lock()
        let now = Date()
        var late: [String] = []
        for (id, phase) in open where !phase.reported && now.timeIntervalSince(phase.since) > phase.patience {
            open[id]?.reported = true
            late.append("\(phase.name) (open \(Int(now.timeIntervalSince(phase.since))) s)")
        }
        lock.unlock()
        for line in late { FileHandle.standardError.write(Data("== phase-watch: still in \(line)\n".utf8)) }
    }
}
