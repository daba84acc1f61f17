import Foundation

/// Which scoring run an answer comes from, as of when, made when, and how old it is. Every
/// answer that cites a run carries one, so that a number read in a meeting can be traced.
public struct RunCitation: Sendable, Equatable {
    public var id: Int
    /// The time the scores describe: ages and evidence validity were judged then.
    public var asOf: Date
    /// When the run was made (the database server's clock).
    public var madeAt: Date
    /// A what-if run describes another time than its making; it is never the current truth.
    public var whatIf: Bool
    /// `full`, or what caused an incremental run (`evidence #12`, `import FILE`).
    public var trigger: String

    public init(id: Int, asOf: Date, madeAt: Date, whatIf: Bool, trigger: String) {
        self.id = id; self.asOf = asOf; self.madeAt = madeAt; self.whatIf = whatIf; self.trigger = trigger
    }

    /// How old the run's scores are at `now`: the time since its as-of.
    public func age(at now: Date) -> TimeInterval { now.timeIntervalSince(asOf) }

    /// `run 12 (as of 2026-11-30T10:00:00Z, made 2026-11-30T10:00:03Z, 2 h old)`.
    public func text(now: Date) -> String {
        "run \(id)\(whatIf ? " (what-if)" : "") as of \(Timestamps.format(asOf)), made \(Timestamps.format(madeAt)), \(Self.describe(age: age(at: now))) old"
    }

    /// A warning when the run is older than `maximumAge` at `now`, else nil.
    public func staleness(now: Date, maximumAge: TimeInterval) -> String? {
        let age = age(at: now)
        guard age > maximumAge else { return nil }
        return "run \(id) is \(Self.describe(age: age)) old (as of \(Timestamps.format(asOf)); the limit is \(Self.describe(age: maximumAge))): run `sleeper score` for current scores"
    }

    public var jsonValue: JSONValue {
        .obj([
            ("id", .int(id)), ("as_of", .string(Timestamps.format(asOf))), ("made_at", .string(Timestamps.format(madeAt))),
            ("what_if", .bool(whatIf)), ("trigger", .string(trigger)),
        ])
    }

    /// The JSON object with its age at `now` in seconds.
    public func jsonValue(now: Date) -> JSONValue {
        guard case .object(var members) = jsonValue else { return jsonValue }
        members.append(("age_seconds", .int(Int(age(at: now).rounded(.down)))))
        return .object(members)
    }

    /// `45 s`, `12 min`, `5 h`, `3 d`: coarse, as a reader wants an age.
    public static func describe(age: TimeInterval) -> String {
        let s = abs(age)
        let text: String
        if s < 120 { text = "\(Int(s)) s" } else if s < 7200 { text = "\(Int(s / 60)) min" } else if s < 3 * 86400 { text = "\(Int(s / 3600)) h" } else { text = "\(Int(s / 86400)) d" }
        return age < 0 ? "-" + text : text
    }
}

/// How old a current run may be before `exposure` and `report` warn. `SLEEPER_MAX_RUN_AGE` sets
/// it in hours; the default is a day.
public enum RunAgeLimit {
    public static let variable = "SLEEPER_MAX_RUN_AGE"
    public static let defaultHours = 24.0

    public static func seconds(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TimeInterval {
        guard let text = environment[variable], !text.isEmpty else { return defaultHours * 3600 }
        guard let hours = Double(text), hours > 0, hours.isFinite else {
            throw ClockSettingError(message: "\(variable)='\(text)' is not a positive number of hours")
        }
        return hours * 3600
    }
}

public struct ClockSettingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
