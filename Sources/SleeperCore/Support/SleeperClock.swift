import Foundation

/// Sleeper's one notion of "now". Scoring, gaps, coverage, diffs, reports and exports judge
/// ages and evidence validity against it, so pinning it (`SLEEPER_NOW`) reproduces any answer.
///
/// What it never decides: when evidence was *recorded*. That time comes from the database
/// server's clock inside the append, so nobody can backdate a ledger record by setting a variable.
public enum SleeperClock {
    /// The variable that pins the clock: a date (`YYYY-MM-DD`, the end of that day UTC, as
    /// `--as-of` reads one) or an ISO 8601 date-time.
    public static let variable = "SLEEPER_NOW"

    /// The pinned time, if `SLEEPER_NOW` is set and valid; read once per process.
    public static let pinned: Result<Date?, ClockSettingError> = pinnedTime(ProcessInfo.processInfo.environment)

    static func pinnedTime(_ environment: [String: String]) -> Result<Date?, ClockSettingError> {
        guard let text = environment[variable], !text.isEmpty else { return .success(nil) }
        guard let date = Timestamps.moment(text) else {
            return .failure(ClockSettingError(message: "\(variable)='\(text)' is not a date (YYYY-MM-DD or ISO 8601 date-time)"))
        }
        return .success(date)
    }

    /// Now: the pinned time if there is one, else the system clock. A malformed `SLEEPER_NOW` is
    /// refused where the command line and the server start (`check()`), so it never gets here.
    public static func now() -> Date {
        if let scoped { return scoped.pinned ?? Date() }
        if case .success(let date?) = pinned { return date }
        return Date()
    }

    /// A clock set for one task and what it starts (one command run in process, as the tests run
    /// them side by side, each with its own time): wins over the process's `SLEEPER_NOW`.
    public struct Setting: Sendable {
        public var pinned: Date?
        public init(pinned: Date?) { self.pinned = pinned }

        /// The setting an environment asks for (`SLEEPER_NOW`), or the refusal of a malformed one.
        public static func from(_ environment: [String: String]) throws -> Setting {
            Setting(pinned: try pinnedTime(environment).get())
        }
    }

    @TaskLocal public static var scoped: Setting?

    /// Whether the clock is pinned; reports say so, since their "now" is then not the real one.
    public static var isPinned: Bool {
        if let scoped { return scoped.pinned != nil }
        if case .success(let date) = pinned { return date != nil }
        return false
    }
}
