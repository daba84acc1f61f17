import Foundation
import PostgresNIO
import SleeperCore

/// The runtime tables: the declared envelope read from the inventory, observed edges and
/// findings written set-based (one statement per table, whatever the number of rows).
public struct RuntimeStore: Sendable {
    let db: Database
    public init(_ db: Database) { self.db = db }

    /// Every agent's envelope: the endpoints of the resources its credentials are granted and of
    /// the agents it delegates to (an MCP server it calls), its declared tools, and its models' keys and names.
    public func envelopes() async throws -> [RuntimeEnvelope] {
        var out: [RuntimeEnvelope] = []
        let rows = try await db.client.query(
            """
            SELECT a.key, a.name || a.trace_names, a.tools,
                   COALESCE((SELECT array_agg(DISTINCT e ORDER BY e) FROM (
                                 SELECT e FROM holds h JOIN grants g ON g.credential_id = h.credential_id
                                 JOIN resources r ON r.id = g.resource_id CROSS JOIN LATERAL unnest(r.endpoints) e WHERE h.agent_id = a.id
                                 UNION ALL
                                 SELECT e FROM delegates_to x JOIN agents d ON d.id = x.delegate_id CROSS JOIN LATERAL unnest(d.endpoints) e
                                 WHERE x.agent_id = a.id) s), '{}'),
                   COALESCE((SELECT array_agg(DISTINCT x ORDER BY x) FROM uses_model u JOIN models m ON m.id = u.model_id
                             CROSS JOIN LATERAL (VALUES (m.key), (m.name)) v(x) WHERE u.agent_id = a.id), '{}')
            FROM agents a ORDER BY a.key
            """, logger: db.logger)
        for try await (key, names, tools, endpoints, models) in rows.decode((String, [String], [String]?, [String], [String]).self) {
            // Its name and the names its traces give it, besides its key.
            out.append(RuntimeEnvelope(agent: key, aliases: names.filter { $0 != key }, endpoints: endpoints, tools: tools, models: models))
        }
        return out
    }

    public typealias StoredFinding = RecordedFinding

    /// Adds the observed edges and findings in one transaction; returns the findings touched.
    func write(_ result: RuntimeFindings.Result, on tx: PostgresConnection) async throws -> [StoredFinding] {
        let e = result.edges
        try await tx.query(
            """
            INSERT INTO observed_edges AS o (agent_key, kind, target, first_seen, last_seen, count, example_traces)
            SELECT agent, kind, target, to_timestamp(first), to_timestamp(last), n, string_to_array(examples, ' ')
            FROM unnest(\(e.map(\.agent))::text[], \(e.map(\.kind.rawValue))::text[], \(e.map(\.target))::text[],
                        \(e.map { $0.firstSeen.timeIntervalSince1970 })::float8[], \(e.map { $0.lastSeen.timeIntervalSince1970 })::float8[],
                        \(e.map(\.count))::int8[], \(e.map { $0.examples.joined(separator: " ") })::text[])
                 AS x(agent, kind, target, first, last, n, examples)
            ON CONFLICT (agent_key, kind, target) DO UPDATE SET
                first_seen = least(o.first_seen, excluded.first_seen), last_seen = greatest(o.last_seen, excluded.last_seen),
                count = o.count + excluded.count,
                example_traces = (SELECT array_agg(t) FROM (SELECT DISTINCT unnest(o.example_traces || excluded.example_traces) t ORDER BY 1 LIMIT 3) s)
            """, logger: db.logger)
        let f = result.findings
        let triggers = try f.map { String(decoding: try JSONEncoder.sorted.encode($0.triggers), as: UTF8.self) }
        var out: [StoredFinding] = []
        let rows = try await tx.query(
            """
            INSERT INTO runtime_findings AS o (agent_key, kind, target, first_seen, last_seen, count, example_traces, trigger_candidates)
            SELECT agent, kind, target, to_timestamp(first), to_timestamp(last), n, string_to_array(examples, ' '), triggers::jsonb
            FROM unnest(\(f.map(\.edge.agent))::text[], \(f.map(\.kind.rawValue))::text[], \(f.map(\.edge.target))::text[],
                        \(f.map { $0.edge.firstSeen.timeIntervalSince1970 })::float8[], \(f.map { $0.edge.lastSeen.timeIntervalSince1970 })::float8[],
                        \(f.map(\.edge.count))::int8[], \(f.map { $0.edge.examples.joined(separator: " ") })::text[], \(triggers)::text[])
                 AS x(agent, kind, target, first, last, n, examples, triggers)
            ON CONFLICT (agent_key, kind, target) DO UPDATE SET
                first_seen = least(o.first_seen, excluded.first_seen), last_seen = greatest(o.last_seen, excluded.last_seen),
                count = o.count + excluded.count,
                example_traces = (SELECT array_agg(t) FROM (SELECT DISTINCT unnest(o.example_traces || excluded.example_traces) t ORDER BY 1 LIMIT 3) s),
                trigger_candidates = CASE WHEN excluded.trigger_candidates = '[]'::jsonb THEN o.trigger_candidates ELSE excluded.trigger_candidates END
            RETURNING \(unescaped: Self.findingColumns), (xmax = 0)
            """, logger: db.logger)
        for try await row in rows.decode(FindingRow.self) {
            out.append(try Self.finding(row))
        }
        return out.sorted { $0.id < $1.id }
    }

    /// The columns a finding is read from, in `FindingRow` order; statements add whether they made it.
    static let findingColumns = "id, agent_key, kind, target, first_seen, last_seen, count, example_traces, trigger_candidates::text, status, reason, decided_by"
    typealias FindingRow = (Int, String, String, String, Date, Date, Int, [String], String, String, String?, String?, Bool)

    static func finding(_ row: FindingRow) throws -> StoredFinding {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let triggers = (try? decoder.decode([RuntimeFindings.TriggerCandidate].self, from: Data(row.8.utf8))) ?? []
        return RecordedFinding(
            id: row.0, agent: row.1, kind: row.2, target: row.3, firstSeen: row.4, lastSeen: row.5, count: row.6, examples: row.7,
            triggers: triggers, status: try rowValue(FindingStatus.self, row.9), reason: row.10, decidedBy: row.11, new: row.12)
    }

    /// When a batch of spans with this digest was imported, or nil.
    public func batchImported(_ digest: String) async throws -> Date? {
        for try await at in try await db.client.query("SELECT imported_at FROM trace_batches WHERE digest = \(digest)", logger: db.logger).decode(Date.self) {
            return at
        }
        return nil
    }

    /// Records a batch as imported, in the import's transaction; another import of the same
    /// spans committed meanwhile is a conflict (nothing of this one is written).
    func recordBatch(_ digest: String, spans: Int, file: String, on tx: PostgresConnection) async throws {
        let inserted = try await tx.query(
            """
            INSERT INTO trace_batches (digest, spans, file) VALUES (\(digest), \(spans), \(file)) ON CONFLICT (digest) DO NOTHING RETURNING 1
            """, logger: db.logger
        ).decode(Int.self).first { _ in true }
        guard inserted != nil else { throw StoreError.conflict("these spans were imported by another import at the same time: nothing was counted twice") }
    }

    /// The advisory lock trace imports take in turn (so that two cannot both count one span).
    public static let traceImportLock: Int64 = 0x5452_4143_4553  // "TRACES"

    /// Which of these spans (start times and keys, as `OTLPTraceReader.Parsed.spanKeys`) were
    /// imported before: their indices. Taken with the import's lock held, in its transaction.
    func seenSpans(_ times: [Date], _ keys: [Int64], on tx: PostgresConnection) async throws -> Set<Int> {
        guard let first = times.min(), let last = times.max() else { return [] }
        let (from, to) = (Int64(first.timeIntervalSince1970), Int64(last.timeIntervalSince1970))
        // Nothing seen in the batch's time range (new traffic): nothing to send.
        let any =
            try await tx.query("SELECT EXISTS (SELECT 1 FROM trace_spans_seen WHERE started_at BETWEEN \(from) AND \(to))", logger: db.logger)
            .decode(Bool.self).first { _ in true } ?? false
        guard any else { return [] }
        var seen: Set<Int> = []
        // Both sides materialized so that they meet in a hash join; the spans seen are read only
        // in this batch's time range.
        let seconds = times.map { Int64($0.timeIntervalSince1970) }
        let rows = try await tx.query(
            """
            WITH b AS MATERIALIZED (SELECT t, h, i FROM unnest(\(seconds)::bigint[], \(keys)::bigint[]) WITH ORDINALITY AS b(t, h, i)),
                 s AS MATERIALIZED (SELECT started_at, span_hash FROM trace_spans_seen WHERE started_at BETWEEN \(from) AND \(to))
            SELECT (b.i - 1)::int FROM b JOIN s ON s.started_at = b.t AND s.span_hash = b.h
            """, logger: db.logger)
        for try await i in rows.decode(Int.self) { seen.insert(i) }
        return seen
    }

    /// Remembers the spans of an import (all but `seen`), in its transaction, by COPY.
    func rememberSpans(_ times: [Date], _ keys: [Int64], except seen: Set<Int>, on tx: PostgresConnection) async throws {
        let kept = times.indices.filter { !seen.contains($0) }
        try await tx.copyRowsInParallel(count: kept.count, into: "trace_spans_seen", columns: ["started_at", "span_hash"], logger: db.logger) { w, range in
            for i in range {
                w.integer(Int(times[kept[i]].timeIntervalSince1970))
                w.integer(Int(keys[kept[i]]))
                w.endRowInBuffer()
            }
        }
    }

    /// Findings, filtered; newest first.
    public func findings(agent: String? = nil, status: FindingStatus? = nil) async throws -> [StoredFinding] {
        var out: [StoredFinding] = []
        let rows = try await db.client.query(
            """
            SELECT \(unescaped: Self.findingColumns), false
            FROM runtime_findings WHERE (\(agent)::text IS NULL OR agent_key = \(agent)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
            ORDER BY last_seen DESC, id DESC
            """, logger: db.logger)
        for try await row in rows.decode(FindingRow.self) {
            out.append(try Self.finding(row))
        }
        return out
    }

    /// What was observed of these agents before: every call, and when each was first seen.
    public func history(_ agents: [String], baselineDays: Int) async throws -> RuntimeFindings.History {
        var h = RuntimeFindings.History(baselineDays: baselineDays)
        let rows = try await db.client.query(
            """
            SELECT agent_key, kind, target, first_seen FROM observed_edges WHERE agent_key = ANY(\(agents)::text[])
            """, logger: db.logger)
        for try await (agent, kind, target, first) in rows.decode((String, String, String, Date).self) {
            guard let k = ObservedKind(rawValue: kind) else { continue }
            h.seen.insert(RuntimeFindings.History.key(agent, k, target))
            h.firstSeen[agent] = min(h.firstSeen[agent] ?? first, first)
        }
        return h
    }

    /// Open findings outside the envelope (the ones that fail the runtime check) per agent.
    func openCounts(_ agents: [String], on tx: PostgresConnection) async throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        let rows = try await tx.query(
            """
            SELECT agent_key, array_agg(id ORDER BY id) FROM runtime_findings
            WHERE status = 'open' AND kind <> 'new-after-baseline' AND agent_key = ANY(\(agents)::text[]) GROUP BY agent_key
            """, logger: db.logger)
        for try await (agent, ids) in rows.decode((String, [Int]).self) { out[agent] = ids }
        return out
    }

    /// The result of each agent's latest SLP-RUNTIME-MONITOR record, if any.
    func latestResults(_ agents: [String], control: String, on tx: PostgresConnection) async throws -> [String: String] {
        var out: [String: String] = [:]
        let rows = try await tx.query(
            """
            SELECT DISTINCT ON (subject_key) subject_key, result FROM evidence
            WHERE subject_kind = 'agent' AND control_id = \(control) AND subject_key = ANY(\(agents)::text[]) AND result <> 'withdrawn'
            ORDER BY subject_key, effective_at DESC, id DESC
            """, logger: db.logger)
        for try await (agent, result) in rows.decode((String, String).self) { out[agent] = result }
        return out
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }
}
