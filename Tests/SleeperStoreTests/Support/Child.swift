import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A child process of a test: started with posix_spawn, reaped with `waitpid(WNOHANG)`, waited for
/// by polling with `Task.sleep`, so that a waiting test holds no thread and every wait has an end.
///
/// Foundation's `Process` was the runner's one unbounded wait: its termination is observed by a
/// monitor of its own, and on a busy machine a child that had ended was sometimes never seen to
/// end, leaving the runner parked with no test running. Here the test asks the kernel itself.
final class Child: @unchecked Sendable {
    let pid: pid_t
    let command: String
    private let lock = NSLock()
    private var ended: Int32?
    private var endedInstant: ContinuousClock.Instant?

    /// `stdout`/`stderr`: files to write (created or truncated); nil is /dev/null; the same path
    /// for both shares one descriptor. `environment` nil inherits the test's environment.
    init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdout: String? = nil, stderr: String? = nil
    ) throws {
        command = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderr, stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        // Nothing of the runner's (sockets, pipes, files) leaks into the child: a child holding
        // the runner's pipe kept its reader waiting for as long as the child lived.
        Self.closeFrom3(&actions)

        // Default signal handling and an empty mask: a runner that ignores SIGTERM or SIGINT must
        // not hand that on, or `sleeper serve` would never hear it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all); sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = environment ?? ProcessInfo.processInfo.environment
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw ChildError(message: "cannot run \(executable): \(String(cString: strerror(spawned)))") }
        self.pid = pid
        startReaper()
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; not in Swift's Glibc
    /// module), looked up at run time; without it, our descriptors are marked close-on-exec.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        if let addCloseFrom, addCloseFrom(&actions, 3) == 0 { return }
        for fd in ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap({ Int32($0) }) where fd > 2 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    struct ChildError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The exit status once the child has ended (128 + the signal that ended it), else nil.
    var exitStatus: Int32? {
        lock.lock(); defer { lock.unlock() }
        return ended
    }

    /// When the child ended, as its reaper saw it: a test's time bound is about the child, not
    /// about how soon a busy test process got round to looking.
    var endedAt: ContinuousClock.Instant? {
        lock.lock(); defer { lock.unlock() }
        return endedInstant
    }

    /// A thread of its own (not the cooperative pool) blocks in `waitpid` for the child and
    /// notes its status and the moment it ended.
    private func startReaper() {
        let pid = self.pid
        let thread = Thread { [weak self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7f
            let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
            guard let self else { return }
            self.lock.lock()
            self.ended = code
            self.endedInstant = .now
            self.lock.unlock()
        }
        thread.name = "sleeper.tests.reaper"
        thread.start()
    }

    var isRunning: Bool { exitStatus == nil }

    /// Waits at most `seconds` (and no longer than the test's own cancellation); nil if still running.
    func wait(seconds: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if let status = exitStatus { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exitStatus
    }

    /// The same, for the few callers that cannot await (a `deinit`).
    func waitBlocking(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = exitStatus { return status }
            usleep(20_000)
        }
        return exitStatus
    }

    func signal(_ signal: Int32) { if isRunning { kill(pid, signal) } }

    /// SIGKILL and reap; the status.
    @discardableResult
    func kill9() -> Int32? {
        signal(SIGKILL)
        return waitBlocking(seconds: 10)
    }

    /// Waits for the child at most `seconds`; past that it is killed and the test fails naming it.
    func finish(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) async -> Int32 {
        if let status = await wait(seconds: seconds) { return status }
        kill9()
        Issue.record(
            "`\(command)` did not end within \(Int(seconds)) s\(Task.isCancelled ? " (the test was cancelled)" : ""); killed",
            sourceLocation: sourceLocation)
        return -1
    }

    deinit { if ended == nil { kill9() } }
}
