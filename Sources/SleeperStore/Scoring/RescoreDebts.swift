import Foundation
import PostgresNIO
import SleeperCore

/// The rescore a committed change is owed, recorded in the change's own transaction
/// (`rescores_owed`, migration 0021), so that a rescore cut short is never forgotten.
public struct OwedRescore: Sendable {
    public var trigger: String
    public var actor: String
    /// The run is as of this time at the earliest.
    public var asOf: Date
    public var subjects: [Subject] = []
    public var resources: [String] = []
    /// What the change reached before it was made (edges it removed), by id.
    public var before = IncrementalRescore.Reach()
    public var fullRun = false

    public init(
        trigger: String, actor: String, asOf: Date, subjects: [Subject] = [], resources: [String] = [],
        before: IncrementalRescore.Reach = .init(), fullRun: Bool = false
    ) {
        self.trigger = trigger; self.actor = actor; self.asOf = asOf; self.subjects = subjects
        self.resources = resources; self.before = before; self.fullRun = fullRun
    }
}

/// Reads and writes `rescores_owed`.
public enum RescoreDebts {
    /// Records what `owed` is owed, on the change's transaction; the debt's id.
    static func owe(_ owed: OwedRescore, on tx: PostgresConnection, logger: Logger) async throws -> Int64 {
        var binds = PostgresBindings()
        binds.append(owed.trigger); binds.append(owed.actor); binds.append(owed.asOf)
        binds.append(owed.subjects.map(\.description)); binds.append(owed.resources)
        binds.append(owed.before.credentials.map(Int64.init).sorted()); binds.append(owed.before.models.map(Int64.init).sorted())
        binds.append(owed.fullRun)
        for try await id in try await tx.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO rescores_owed (trigger, actor, as_of, subjects, resources, credentials, models, full_run)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                    """, binds: binds), logger: logger
        ).decode(Int64.self) { return id }
        throw StoreError.invalidInput("the rescore owed by \(owed.trigger) was not recorded")
    }

    /// One open debt, as read back.
    struct Debt: Sendable {
        var id: Int64
        var trigger: String
        var asOf: Date
        var subjects: [Subject]
        var resources: [String]
        var credentials: [Int64]
        var models: [Int64]
        var fullRun: Bool
    }

    /// Every debt not yet settled, oldest first.
    static func open(_ db: Database) async throws -> [Debt] {
        var out: [Debt] = []
        for try await (id, trigger, asOf, subjects, resources, credentials, models, full) in try await db.client.query(
            """
            SELECT id, trigger, as_of, subjects, resources, credentials, models, full_run
            FROM rescores_owed WHERE settled_at IS NULL ORDER BY id
            """, logger: db.logger
        ).decode((Int64, String, Date, [String], [String], [Int64], [Int64], Bool).self) {
            out.append(
                Debt(
                    id: id, trigger: trigger, asOf: asOf,
                    subjects: try subjects.map { text in
                        guard let subject = Subject(text) else { throw UnexpectedRowValue(type: "Subject", value: text) }
                        return subject
                    }, resources: resources,
                    credentials: credentials, models: models, fullRun: full))
        }
        return out
    }

    /// Marks `ids` settled by `run` (nil: nothing to keep current), on the run's own transaction.
    static func settle(_ ids: [Int64], run: Int?, on tx: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(ids); binds.append(run.map(Int64.init))
        try await tx.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE rescores_owed SET settled_at = now(), settled_run = $2 WHERE id = ANY($1) AND settled_at IS NULL
                    """, binds: binds), logger: logger)
        // Settled debts are kept a week, for the audit of what each run covered; no longer.
        try await tx.query("DELETE FROM rescores_owed WHERE settled_at < now() - interval '7 days'", logger: logger)
    }

    /// Whether `id` is settled, and by which run.
    static func settled(_ id: Int64, _ db: Database) async throws -> (settled: Bool, run: Int?) {
        for try await (at, run) in try await db.client.query("SELECT settled_at, settled_run FROM rescores_owed WHERE id = \(id)", logger: db.logger)
            .decode((Date?, Int?).self)
        { return (at != nil, run) }
        return (true, nil)
    }

    /// How far behind the scores are: the open debts' count, the oldest one's time and what they were.
    public struct Behind: Sendable, Equatable {
        public var changes: Int
        public var since: Date
        public var triggers: [String]

        public var summary: String {
            "the scores are behind: \(changes) committed change(s) since \(Timestamps.format(since)) are not yet scored (\(triggers.prefix(3).joined(separator: "; "))\(changes > 3 ? "; …" : "")); run `sleeper score` or any command that reads scores to settle them"
        }
    }

    public static func behind(_ db: Database) async throws -> Behind? {
        for try await (n, since, triggers) in try await db.client.query(
            """
            SELECT count(*)::int, min(owed_at), (array_agg(trigger ORDER BY id))[1:3] FROM rescores_owed WHERE settled_at IS NULL
            """, logger: db.logger
        ).decode((Int, Date?, [String]?).self) {
            guard n > 0, let since else { return nil }
            return Behind(changes: n, since: since, triggers: triggers ?? [])
        }
        return nil
    }
}
