import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sleeper's own private PostgreSQL cluster, used when no database is configured. It is created
/// with the system's `initdb`/`pg_ctl` under `$SLEEPER_HOME`, listens on a unix socket only, and is
/// started on demand. As root, the server runs as the `postgres` user, which PostgreSQL requires.
public struct EmbeddedCluster: Sendable {
    public let home: URL
    public var dataDirectory: URL { home.appending(path: "postgres") }
    public var socketDirectory: URL { home.appending(path: "run") }
    public var logFile: URL { home.appending(path: "postgres.log") }
    public static let port = 5432
    public static let role = "sleeper"
    public static let database = "sleeper"

    public init(home: URL) { self.home = home }

    /// `$SLEEPER_HOME`, else `~/.local/share/sleeper` (XDG). As root the default is `/var/lib/sleeper`,
    /// because the server runs as `postgres`, which cannot enter `/root`.
    public static func defaultHome(environment: [String: String]) -> URL {
        if let home = environment["SLEEPER_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        if getuid() == 0 { return URL(fileURLWithPath: "/var/lib/sleeper") }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appending(path: "sleeper") }
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: userHome).appending(path: ".local/share/sleeper")
    }

    public var settings: ConnectionSettings {
        ConnectionSettings(
            endpoint: .unixSocket(path: socketDirectory.appending(path: ".s.PGSQL.\(Self.port)").path),
            user: Self.role, database: Self.database, tls: .disable, source: .embedded)
    }

    public struct Status: Sendable {
        public var initialized: Bool
        /// The server accepts connections on its socket: liveness by connecting, not by a pid,
        /// which outlives a crashed server until it is reaped.
        public var running: Bool
        public var pid: Int?
        public var version: String?
        /// A process with the recorded pid exists but the socket does not accept connections
        /// (starting, stopping, or crashed and not yet reaped).
        public var pidWithoutServer: Bool = false
    }

    public func status() -> Status {
        let versionFile = dataDirectory.appending(path: "PG_VERSION")
        let version = (try? String(contentsOf: versionFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard version != nil else { return Status(initialized: false, running: false) }
        let pid = (try? String(contentsOf: dataDirectory.appending(path: "postmaster.pid"), encoding: .utf8))
            .flatMap { $0.split(separator: "\n").first }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let alive = pid.map { kill(pid_t($0), 0) == 0 || errno == EPERM } ?? false
        let answering = alive && acceptsConnections()
        return Status(initialized: true, running: answering, pid: alive ? pid : nil, version: version, pidWithoutServer: alive && !answering)
    }

    /// Whether the server's unix socket accepts a connection right now.
    public func acceptsConnections() -> Bool {
        let path = socketDirectory.appending(path: ".s.PGSQL.\(Self.port)").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }

    /// Creates the cluster if needed and starts it if stopped. Serialised by a lock file so that
    /// two commands started at once do not both run `initdb`.
    public func ensureRunning() throws -> ConnectionSettings {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        return try withLock {
            let binaries = try PostgresBinaries.locate()
            let asPostgres = getuid() == 0
            if !status().initialized {
                try prepareDirectory(dataDirectory, mode: 0o700, forPostgres: asPostgres)
                try run(
                    binaries.initdb,
                    [
                        "-D", dataDirectory.path, "-U", Self.role, "--auth=trust",
                        "-E", "UTF8", "--locale=C", "--no-sync",
                    ], asPostgres: asPostgres, step: "initdb")
            }
            // A server whose process lingers without answering (crashed, not yet reaped; or
            // shutting down) is waited for, up to ten seconds, before a new one is started.
            var waited = 0
            while status().pidWithoutServer && waited < 100 {
                usleep(100_000)
                waited += 1
            }
            if !status().running {
                try prepareDirectory(socketDirectory, mode: 0o700, forPostgres: asPostgres)
                if asPostgres { try prepareLog() }
                let path = socketDirectory.appending(path: ".s.PGSQL.\(Self.port)").path
                guard path.utf8.count < 104 else {
                    throw StoreError.embedded("the socket path \(path) is too long for a unix socket; set SLEEPER_HOME to a shorter directory")
                }
                // A gigabyte of shared buffers rather than PostgreSQL's default 128 MB: at a million
                // credentials the indexes a rescore probes did not stay cached, and every probe
                // went to the operating system.
                let options = "-c listen_addresses='' -c unix_socket_directories='\(socketDirectory.path)' -c port=\(Self.port) -c shared_buffers=1GB -c log_error_verbosity=terse"
                // A server that will not start now (a killed one's memory not yet given back, its
                // recovery under way in another command) is a database away, not a broken command:
                // nothing was written, and the same command can be run again (exit 75).
                do {
                    try run(
                        binaries.pgCtl, ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", options, "start"],
                        asPostgres: asPostgres, step: "pg_ctl start")
                } catch StoreError.embedded(let message) {
                    throw StoreError.unreachable("the embedded cluster in \(home.path)", reason: message)
                }
            }
            return settings
        }
    }

    public func stop() throws -> Bool {
        guard status().running else { return false }
        let binaries = try PostgresBinaries.locate()
        try run(
            binaries.pgCtl, ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"],
            asPostgres: getuid() == 0, step: "pg_ctl stop")
        return true
    }

    // MARK: - Helpers

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(home.appending(path: ".lock").path, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { throw StoreError.embedded("cannot create the lock file in \(home.path)") }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func prepareDirectory(_ url: URL, mode: Int, forPostgres: Bool) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode_t(mode))
        if forPostgres {
            let (uid, gid) = try postgresUser()
            guard chown(url.path, uid, gid) == 0 else { throw StoreError.embedded("cannot hand \(url.path) to the postgres user") }
            // The postgres user must be able to reach the directory through every parent.
            guard run0("/usr/sbin/runuser", ["-u", "postgres", "--", "test", "-w", url.path]) == 0 else {
                throw StoreError.embedded(
                    """
                    the postgres user cannot reach \(url.path) (running as root, the server runs as postgres). \
                    Set SLEEPER_HOME to a directory it can reach, such as /var/lib/sleeper.
                    """)
            }
        }
    }

    private func prepareLog() throws {
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let (uid, gid) = try postgresUser()
        chown(logFile.path, uid, gid)
    }

    private func postgresUser() throws -> (uid_t, gid_t) {
        guard let pw = getpwnam("postgres") else {
            throw StoreError.embedded("running as root needs the 'postgres' system user, which the postgresql package creates (apt-get install postgresql)")
        }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool, step: String) throws {
        let (path, args) = asPostgres ? ("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments) : (executable, arguments)
        // Output goes to a file, not a pipe: the server that pg_ctl starts inherits the descriptors
        // and would keep a pipe open for as long as it runs.
        let outputFile = home.appending(path: "\(step.replacingOccurrences(of: " ", with: "-")).out")
        let status = try ChildProcess.run(path, args, outputFile: outputFile.path)
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let log = (try? String(contentsOf: logFile, encoding: .utf8)).map { "\n--- \(logFile.path) (end) ---\n" + $0.suffix(1500) } ?? ""
            throw StoreError.embedded("\(step) failed for the embedded cluster in \(dataDirectory.path):\n\(text)\(log)")
        }
    }

    private func run0(_ executable: String, _ arguments: [String]) -> Int32 {
        (try? ChildProcess.run(executable, arguments, outputFile: "/dev/null")) ?? -1
    }
}

/// The server binaries of the newest PostgreSQL installed: Debian's `/usr/lib/postgresql/N/bin`
/// first (the `initdb` on PATH is often a wrapper or missing), then `$SLEEPER_PG_BIN`, then PATH.
public struct PostgresBinaries: Sendable {
    public var initdb: String
    public var pgCtl: String

    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresBinaries {
        var candidates: [String] = []
        if let dir = environment["SLEEPER_PG_BIN"], !dir.isEmpty { candidates.append(dir) }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap { Int($0) }.sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in candidates {
            let initdb = dir + "/initdb", pgCtl = dir + "/pg_ctl"
            if FileManager.default.isExecutableFile(atPath: initdb), FileManager.default.isExecutableFile(atPath: pgCtl) {
                return PostgresBinaries(initdb: initdb, pgCtl: pgCtl)
            }
        }
        throw StoreError.embedded(
            """
            no database is configured and the PostgreSQL server programs (initdb, pg_ctl) are not installed, \
            so Sleeper cannot start its embedded database. Install them with `apt-get install postgresql`, \
            or point --database-url / DATABASE_URL / PGHOST at an existing server.
            """)
    }
}
