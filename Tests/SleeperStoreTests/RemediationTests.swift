import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Recall, remediation actions, accepted risk: end to end over the example estate, on the
/// command line and over HTTP.
@Suite("Recall and remediation", .timeLimit(.minutes(8)))
struct RemediationTests {
    static func json(_ run: Fixtures.Run) throws -> Any { try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) }

    @Test("a recall of a model makes exactly its blast radius into actions, riskiest credential first, due by band; a dry run records nothing")
    func recallIsTheBlastRadius() async throws {
        let env = TestClock.environment()
        try await ExportStoreTests.withEstate { db, url in
            let dry = try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "trigger found", "--dry-run", "--format", "json", "--database-url", url], environment: env)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(try await db.count("SELECT count(*) FROM recalls") == 0)
            #expect(try await db.count("SELECT count(*) FROM remediation_actions") == 0)
            let planned = try #require(try Self.json(dry) as? [[String: Any]])

            let radius = try #require(try Self.json(try await Fixtures.sleeper(["explain", "model:acme-support-ft", "--format", "json", "--database-url", url], environment: env)) as? [String: Any])
            let models = ["acme-support-ft"] + (radius["downstream_models"] as? [String] ?? [])
            let agents = radius["downstream_agents"] as? [String] ?? []
            let credentials = (radius["credentials"] as? [[String: Any]] ?? []).compactMap { $0["credential"] as? String }

            let made = try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "trigger found by the red team", "--by", "ciso", "--database-url", url], environment: env)
            #expect(made.status == 0, "\(made.stderr)")
            #expect(made.stdout.hasPrefix("recall #1 of model:acme-support-ft: \(planned.count) action(s)"), "\(made.stdout)")
            // The damage it contains: the resources the reached credentials act on, tier 0 first.
            #expect(made.stdout.contains("resources within reach: customer-db, payments-api, crm"), "\(made.stdout)")
            let listed = try #require(try Self.json(try await Fixtures.sleeper(["actions", "--format", "json", "--database-url", url], environment: env)) as? [[String: Any]])
            let subjects = listed.compactMap { $0["subject"] as? String }
            #expect(Set(subjects) == Set(models.map { "model:\($0)" } + agents.map { "agent:\($0)" } + credentials.map { "credential:\($0)" }), "\(subjects)")
            #expect(subjects.count == planned.count && subjects == planned.compactMap { $0["subject"] as? String })
            // Credentials first, by score; each due by its band's days.
            let scores = listed.prefix(credentials.count).compactMap { $0["score"] as? Int }
            #expect(scores == scores.sorted(by: >) && scores.count == credentials.count)
            let days = ["critical": 7.0, "high": 30, "medium": 90, "low": 180]
            for a in listed {
                let due = try #require(Timestamps.parse(a["due"] as? String ?? ""))
                let band = a["band"] as? String ?? ""
                #expect(abs(due.timeIntervalSince(Timestamps.parse(Timestamps.formatDay(TestClock.now)) ?? .distantPast) / 86400 - (days[band] ?? -1)) < 1, "\(a)")
            }
            // Owners from the inventory; a model nobody owns is listed as unowned.
            #expect(listed.contains { $0["subject"] as? String == "credential:payments-api-key" && $0["owner"] as? String == "payments-platform" })
            #expect(listed.contains { $0["subject"] as? String == "model:acme-support-ft" && $0["owner"] as? String == "unowned" })

            // The recalled model counts as compromised: the explanation says so and the credentials rose.
            let steps =
                try #require(try Self.json(try await Fixtures.sleeper(["explain", "model:acme-support-ft", "--format", "json", "--database-url", url], environment: env)) as? [String: Any])["steps"]
                as? [String]
            #expect(steps?.contains("L0 → L: recalled (recall #1): counted as compromised, L = 1") == true, "\(steps ?? [])")
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'recall.create' AND target = 'model:acme-support-ft'") == 1)

            let twice = try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "again", "--database-url", url], environment: env)
            #expect(twice.status == 1 && twice.stderr.contains("is already recalled (recall #1)"), "\(twice.stderr)")
            let credential = try await Fixtures.sleeper(["recall", "credential:payments-api-key", "--reason", "x", "--database-url", url], environment: env)
            #expect(credential.status == 1 && credential.stderr.contains("a credential is not recalled"))

            // An agent: itself, whatever it delegates to, and what they hold; a dataset: the models trained on it and onward.
            let agent = try #require(
                try Self.json(
                    try await Fixtures.sleeper(
                        [
                            "recall", "agent:refund-bot", "--reason", "prompt injection seen", "--dry-run", "--format", "json",
                            "--database-url", url,
                        ], environment: env)) as? [[String: Any]])
            let agentSubjects = Set(agent.compactMap { $0["subject"] as? String })
            #expect(agentSubjects.isSuperset(of: ["agent:refund-bot", "credential:payments-api-key", "credential:customer-db-reader"]), "\(agentSubjects)")
            #expect(!agentSubjects.contains { $0.hasPrefix("model:") }, "an agent's recall replaces no model")
            let dataset = try #require(
                try Self.json(
                    try await Fixtures.sleeper(
                        [
                            "recall", "dataset:vendor-ft-data", "--reason", "poisoned samples found", "--dry-run", "--format", "json",
                            "--database-url", url,
                        ], environment: env)) as? [[String: Any]])
            let trained = try await db.count("SELECT count(*) FROM trained_on t JOIN datasets d ON d.id = t.dataset_id WHERE d.key = 'vendor-ft-data'")
            #expect(trained > 0 && dataset.filter { ($0["subject"] as? String)?.hasPrefix("model:") == true }.count >= trained, "\(dataset)")
        }
    }

    @Test("actions close from evidence and the inventory, never by hand: a rotation record, a rotation date from a source, a new digest, a removed hold")
    func actionsCloseFromEvidence() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            func estate(_ digest: String, holds: String, rotated: String) throws -> String {
                let file = dir.appending(path: "estate-\(UUID().uuidString).yaml")
                try Data(
                    """
                    resources: [{key: vault, tier: 0}]
                    models: [{key: base, supplier: acme, third_party: true, digest: "\(digest)", owner: ml}]
                    agents:
                      - {key: bot, owner: ops, input_trust: untrusted, uses_models: [base], holds: [\(holds)]}
                      - {key: helper, owner: ops, input_trust: internal, uses_models: [base], holds: [{credential: k3, delivery: tool_held}]}
                    credentials:
                      - {key: k1, kind: api_key, owner: pay, grants: [{resource: vault, action: admin}]}
                      - {key: k2, kind: api_key, owner: pay, last_rotated_at: "\(rotated)", grants: [{resource: vault, action: write}]}
                      - {key: k3, kind: api_key, grants: [{resource: vault, action: read}]}
                    """.utf8
                ).write(to: file)
                return file.path
            }
            let all = "{credential: k1, delivery: runtime_env}, {credential: k2, delivery: runtime_env}"
            #expect(
                try await Fixtures.sleeper(["import", try estate("sha256:" + String(repeating: "a", count: 64), holds: all, rotated: "2026-01-01"), "--database-url", url], environment: env).status
                    == 0)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: env).status == 0)
            #expect(try await Fixtures.sleeper(["recall", "model:base", "--reason", "poisoned upstream", "--database-url", url], environment: env).status == 0)
            func status(_ subject: String) async throws -> String {
                let rows = try #require(try Self.json(try await Fixtures.sleeper(["actions", "--format", "json", "--database-url", url], environment: env)) as? [[String: Any]])
                let row = rows.first { $0["subject"] as? String == subject }
                return "\(row?["status"] as? String ?? "?") \(row?["closed_because"] as? String ?? "")"
            }
            #expect(try await status("credential:k1") == "open ")
            #expect(try await db.count("SELECT count(*) FROM remediation_actions") == 6)

            // Evidence in force is what the status query says: a rotation pass followed by a later
            // fail on k3 (one file, one transaction) leaves its action open, as gaps show the fail.
            let k3File = dir.appending(path: "k3.yaml")
            // Both after the recall (stamped by the database's clock) and neither in its future.
            let recalledAt =
                try await db.client.query("SELECT extract(epoch FROM date_trunc('second', recalled_at))::float8 FROM recalls", logger: db.logger)
                .decode(Double.self).first { _ in true } ?? 0
            try await Task.sleep(for: .seconds(2.5))
            let passAt = Timestamps.format(Date(timeIntervalSince1970: recalledAt + 1)), failAt = Timestamps.format(Date(timeIntervalSince1970: recalledAt + 2))
            try Data(
                """
                - {subject: "credential:k3", control: SLP-ROTATION, result: pass, effective: "\(passAt)"}
                - {subject: "credential:k3", control: SLP-ROTATION, result: fail, effective: "\(failAt)"}
                """.utf8
            ).write(to: k3File)
            #expect(try await Fixtures.sleeper(["evidence", "import", k3File.path, "--database-url", url], environment: env).status == 0)
            #expect(try await status("credential:k3") == "open ", "the latest rotation record is a fail")

            #expect(
                try await Fixtures.sleeper(["evidence", "add", "--subject", "credential:k1", "--control", "SLP-ROTATION", "--result", "pass", "--database-url", url], environment: env).status == 0)
            #expect(try await status("credential:k1").hasPrefix("done SLP-ROTATION evidence #3 effective"))
            #expect(try await status("credential:k2") == "open ")
            // Someone takes k2 on: in progress, by hand; done still only from what the inventory shows.
            let k2 = try await db.count("SELECT id FROM remediation_actions WHERE subject_key = 'k2'")
            #expect(try await Fixtures.sleeper(["actions", "start", String(k2), "--by", "pay", "--database-url", url], environment: env).status == 0)
            #expect(try await status("credential:k2") == "in-progress ")
            let twice = try await Fixtures.sleeper(["actions", "start", String(k2), "--database-url", url], environment: env)
            #expect(twice.status == 1 && twice.stderr.contains("action \(k2) is in-progress, not open"), "\(twice.stderr)")

            // A source's re-sync: k2 rotated after the recall, the model replaced, bot no longer holding k1 and k2 but helper's k3 stays.
            let later = Timestamps.format(Date().addingTimeInterval(60))
            #expect(try await Fixtures.sleeper(["import", try estate("sha256:" + String(repeating: "b", count: 64), holds: "", rotated: later), "--database-url", url], environment: env).status == 0)
            #expect(try await status("credential:k2").hasPrefix("done rotated on"))
            #expect(try await status("model:base") == "done replaced: digest sha256:\(String(repeating: "b", count: 64)) since the recall")
            #expect(try await status("credential:k3") == "open ", "helper, still using the model, holds it")
            #expect(try await status("agent:bot") == "open ", "bot still uses the recalled model")
            #expect(try await db.count("SELECT count(*) FROM remediation_actions WHERE status = 'done'") == 3)
        }
    }

    @Test("an acceptance stands until its date and lapses by itself; its length is bounded by the band; accepted gaps are shown as such")
    func acceptanceLapses() async throws {
        let env = TestClock.environment()
        try await ExportStoreTests.withEstate { db, url in
            #expect(try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "trigger found", "--database-url", url], environment: env).status == 0)
            let actions = try #require(try Self.json(try await Fixtures.sleeper(["actions", "--format", "json", "--database-url", url], environment: env)) as? [[String: Any]])
            let high = try #require(actions.first { $0["band"] as? String == "high" && ($0["subject"] as? String)?.hasPrefix("credential:") == true })
            let id = try #require(high["id"] as? Int), subject = try #require(high["subject"] as? String)
            let tooLong = Timestamps.formatDay(TestClock.now.addingTimeInterval(120 * 86400))
            let refused = try await Fixtures.sleeper(["accept", subject, "--action", String(id), "--until", tooLong, "--by", "ciso", "--reason", "vendor", "--database-url", url], environment: env)
            #expect(refused.status == 1 && refused.stderr.contains("a high risk may be accepted for at most 90 days"), "\(refused.stderr)")
            let until = TestClock.now.addingTimeInterval(40 * 86400)
            let ok = try await Fixtures.sleeper(
                [
                    "accept", subject, "--action", String(id), "--until", Timestamps.formatDay(until), "--by", "ciso",
                    "--reason", "vendor rotates it next month", "--database-url", url,
                ], environment: env)
            #expect(ok.status == 0, "\(ok.stderr)")
            func row(asOf: Date) async throws -> [String: Any]? {
                let rows = try Self.json(try await Fixtures.sleeper(["actions", "--as-of", Timestamps.format(asOf), "--format", "json", "--database-url", url], environment: env)) as? [[String: Any]]
                return rows?.first { $0["id"] as? Int == id }
            }
            await #expect(try row(asOf: until.addingTimeInterval(-86400))?["status"] as? String == "accepted")
            await #expect(try row(asOf: until.addingTimeInterval(-86400))?["overdue"] as? Bool == false, "accepted is not overdue, though past its due date")
            let lapsed = try await row(asOf: until.addingTimeInterval(86400))
            #expect(lapsed?["status"] as? String == "open" && lapsed?["overdue"] as? Bool == true, "\(String(describing: lapsed))")

            let gap = try await Fixtures.sleeper(
                [
                    "accept", "model:llama-3-8b", "--control", "SLP-REDTEAM", "--until", Timestamps.formatDay(TestClock.now.addingTimeInterval(10 * 86400)),
                    "--by", "ml-security", "--reason", "red team booked", "--database-url", url,
                ], environment: env)
            #expect(gap.status == 0, "\(gap.stderr)")
            let gaps = try await Fixtures.sleeper(["gaps", "--subject", "model:llama-3-8b", "--format", "csv", "--database-url", url], environment: env)
            #expect(gaps.stdout.contains(",accepted,") && gaps.stdout.contains(",ml-security"), "\(gaps.stdout)")
            let later = try await Fixtures.sleeper(
                [
                    "gaps", "--subject", "model:llama-3-8b", "--as-of", Timestamps.formatDay(TestClock.now.addingTimeInterval(11 * 86400)),
                    "--format", "csv", "--database-url", url,
                ], environment: env)
            #expect(later.stdout.contains("SLP-REDTEAM,missing"), "\(later.stdout)")
            let wrong = try await Fixtures.sleeper(
                ["accept", "credential:crm-oauth", "--control", "SLP-HITL", "--until", "2026-12-30", "--by", "x", "--reason", "y", "--database-url", url], environment: env)
            #expect(wrong.status == 1 && wrong.stderr.contains("SLP-HITL does not apply to a credential"))
            #expect(try await db.count("SELECT count(*) FROM risk_acceptances") == 2)
            let open = try await db.count("SELECT count(*) FROM remediation_actions WHERE status <> 'done'")

            // The POA&M: one item per open action with its deadline as a milestone, accepted risks as deviation-approved
            // with the approver, gaps by control and owner; valid OSCAL.
            let poamFile = try ExportStoreTests.scratch().appending(path: "poam.json")
            let exported = try await Fixtures.sleeper(["export", "oscal-poam", "--out", poamFile.path, "--database-url", url], environment: env)
            #expect(exported.status == 0, "\(exported.stderr)")
            let validation = try await ExportStoreTests.validate([poamFile])
            #expect(validation.ok, "\(validation.output)")
            let poam = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: poamFile)) as? [String: Any])["plan-of-action-and-milestones"] as? [String: Any]
            let risks = poam?["risks"] as? [[String: Any]] ?? [], items = poam?["poam-items"] as? [[String: Any]] ?? []
            let accepted = risks.filter { $0["status"] as? String == "deviation-approved" }
            #expect(accepted.count == 2, "the accepted action and the accepted gap")
            let approvers = accepted.compactMap { (($0["risk-log"] as? [String: Any])?["entries"] as? [[String: Any]])?.first?["title"] as? String }.sorted()
            #expect(approvers == ["Risk accepted by ciso", "Risk accepted by ml-security"], "\(approvers)")
            #expect(String(data: try Data(contentsOf: poamFile), encoding: .utf8)?.contains("accepted by ciso until") == true)
            #expect(String(data: try Data(contentsOf: poamFile), encoding: .utf8)?.contains("accepted by ml-security until") == true)
            #expect(items.filter { ($0["title"] as? String)?.contains("(recall #1)") == true }.count == open, "one item per action not done")
            let milestones = risks.compactMap { (($0["remediations"] as? [[String: Any]])?.first?["tasks"] as? [[String: Any]])?.first?["type"] as? String }
            #expect(milestones.count == open && milestones.allSatisfy { $0 == "milestone" })
            #expect(items.contains { ($0["title"] as? String)?.hasPrefix("Record valid evidence of SLP-PROVENANCE for ") == true })

            // The review report is the meeting's agenda: what to do first, the actions, the accepted risks.
            let report = try await Fixtures.sleeper(["report", "--database-url", url], environment: env)
            #expect(report.status == 0, "\(report.stderr)")
            let md = report.stdout
            // The accepted action is not on the agenda; the open ones are, worst band and riskiest first.
            #expect(md.contains("## What to do\n\n\(open - 1) remediation action(s) are open. The causes first, then these:"), "\(md.prefix(800))")
            let agenda = md.components(separatedBy: "## Where the estate stands").first ?? ""
            #expect(agenda.contains("| Rotate or revoke payments-api-key (recall #1) | payments-platform | critical |"), "\(agenda)")
            #expect(!agenda.contains(subject.replacingOccurrences(of: "credential:", with: "Rotate or revoke ")), "the accepted action waits")
            #expect(md.contains("## Accepted risks\n\n2 accepted risk(s), soonest to lapse first"), "\(md)")
            #expect(md.contains("| model:llama-3-8b | SLP-REDTEAM | critical | ml-security |"), "\(md)")
            #expect(md.contains("## Remediation actions\n\n\(try await db.count("SELECT count(*) FROM remediation_actions")) action(s): \(open) not done (0 overdue)"), "\(md)")

            // The CSV export says which gaps are accepted.
            let csv = try await Fixtures.sleeper(["export", "csv", "--database-url", url], environment: env)
            #expect(csv.stdout.split(separator: "\r\n").contains { $0.hasPrefix("model,llama-3-8b,") && $0.contains(",SLP-REDTEAM,") && $0.contains(",accepted,") }, "\(csv.stdout.prefix(300))")

            // Tickets: every action not done, one row each, Jira's priority for the band, the owner as the team.
            let jira = try await Fixtures.sleeper(["actions", "export", "--format", "jira-csv", "--database-url", url], environment: env)
            let lines = jira.stdout.split(separator: "\r\n")
            #expect(lines.first == "Summary,Description,Issue Type,Priority,Due Date,Labels,Team,External ID")
            #expect(lines.count == open + 1, "\(jira.stdout)")
            #expect(lines.contains { $0.hasPrefix("Rotate or revoke payments-api-key (recall #1),") && $0.contains(",Task,Highest,") && $0.contains(",payments-platform,sleeper-action-") })
            let tickets = try #require(
                try Self.json(try await Fixtures.sleeper(["actions", "export", "--format", "json", "--owner", "unowned", "--database-url", url], environment: env)) as? [[String: Any]])
            #expect(!tickets.isEmpty && tickets.allSatisfy { $0["owner"] as? String == "unowned" && ($0["external_id"] as? String)?.hasPrefix("sleeper-action-") == true })
        }
    }

    @Test("releasing a recall scores the subject by its own risk again; over HTTP: recall, actions, accept, release, roles")
    func releaseAndHTTP() async throws {
        try await ServerTests.withServer { server, tokens, db in
            let before = try await ScoreRuns(db).exposures(run: try #require(try await ScoreRuns(db).latestRunID()), top: 1, band: nil, minScore: nil, owner: nil, resource: nil)
            let dry = try await server.call("POST", "/v1/recalls", token: tokens.editor, body: Data(#"{"subject": "model:acme-support-ft", "reason": "trigger", "dry_run": true}"#.utf8))
            #expect(dry.status == 200, "\(dry.body)")
            #expect(try await db.count("SELECT count(*) FROM recalls") == 0)
            let viewer = try await server.call("POST", "/v1/recalls", token: tokens.viewer, body: Data(#"{"subject": "model:acme-support-ft", "reason": "trigger"}"#.utf8))
            #expect(viewer.status == 403)
            let bad = try await server.call("POST", "/v1/recalls", token: tokens.editor, body: Data(#"{"subject": "model:acme-support-ft"}"#.utf8))
            #expect(bad.status == 400 && bad.body.contains("reason"), "\(bad.body)")
            let made = try await server.call("POST", "/v1/recalls", token: tokens.editor, body: Data(#"{"subject": "model:acme-support-ft", "reason": "trigger"}"#.utf8))
            #expect(made.status == 201, "\(made.body)")
            let answer = try #require(made.json as? [String: Any])
            let stored = try await db.count("SELECT count(*) FROM remediation_actions")
            #expect(answer["recall"] as? Int == 1 && (answer["plan"] as? [[String: Any]])?.count == stored)
            #expect((answer["resources"] as? [String])?.first == "customer-db", "\(answer)")
            let page = try #require(try await server.call("GET", "/v1/actions?owner=unowned", token: tokens.viewer).json as? [String: Any])
            let items = try #require(page["items"] as? [[String: Any]])
            #expect(!items.isEmpty && items.allSatisfy { $0["owner"] as? String == "unowned" })
            let first = try #require(try await server.call("GET", "/v1/actions?limit=1", token: tokens.viewer).json as? [String: Any])
            let action = try #require((first["items"] as? [[String: Any]])?.first)
            let accept = try await server.call(
                "POST", "/v1/acceptances", token: tokens.editor,
                body: Data(
                    "{\"subject\": \"\(action["subject"] as? String ?? "")\", \"action\": \(action["id"] as? Int ?? 0), \"until\": \"\(Timestamps.formatDay(Date().addingTimeInterval(5 * 86400)))\", \"by\": \"ciso\", \"reason\": \"vendor\"}"
                        .utf8))
            #expect(accept.status == 201, "\(accept.body)")
            let openOne = try #require((try await server.call("GET", "/v1/actions?status=open&limit=1", token: tokens.viewer).json as? [String: Any])?["items"] as? [[String: Any]]).first
            let openID = openOne?["id"] as? Int ?? 0
            #expect(try await server.call("POST", "/v1/actions/\(openID)/start", token: tokens.viewer).status == 403)
            let begun = try await server.call("POST", "/v1/actions/\(openID)/start", token: tokens.editor, body: Data(#"{"by": "sales-ops"}"#.utf8))
            #expect(begun.status == 200 && begun.body.contains("in-progress"), "\(begun.body)")
            #expect(try await server.call("POST", "/v1/actions/\(openID)/start", token: tokens.editor).status == 400, "only an open action starts")
            #expect(try await server.call("POST", "/v1/actions/99999/start", token: tokens.editor).status == 404)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'action.start' AND target = '#\(openID)'") == 1)
            let during = try await ScoreRuns(db).exposures(run: try #require(try await ScoreRuns(db).latestRunID()), top: 1, band: nil, minScore: nil, owner: nil, resource: nil)
            #expect(during[0].raw > before[0].raw, "\(made.body) \(during[0]) \(before[0])")
            let released = try await server.call("POST", "/v1/recalls/release", token: tokens.editor, body: Data(#"{"subject": "model:acme-support-ft", "reason": "retrained"}"#.utf8))
            #expect(released.status == 200, "\(released.body)")
            let after = try await ScoreRuns(db).exposures(run: try #require(try await ScoreRuns(db).latestRunID()), top: 1, band: nil, minScore: nil, owner: nil, resource: nil)
            #expect(abs(after[0].raw - before[0].raw) < 1e-9 && after[0].credential == before[0].credential)
            // Releasing is not doing: what was open is cancelled, with who and why; none is "done".
            #expect(try await db.count("SELECT count(*) FROM remediation_actions WHERE status NOT IN ('done', 'cancelled')") == 0, "the plan ends with the recall")
            let cancelled = try await db.count("SELECT count(*) FROM remediation_actions WHERE status = 'cancelled' AND closed_because = 'cancelled: recall released by pipeline: retrained'")
            let actionCount = try await db.count("SELECT count(*) FROM remediation_actions")
            #expect(cancelled > 0 && cancelled == actionCount, "nothing was done, so nothing is done")
            #expect(try await db.count("SELECT count(*) FROM risk_acceptances WHERE action_id IS NOT NULL AND accepted_until > now()") == 0, "the acceptance of a cancelled action ended")
            let listed = try #require(try await server.call("GET", "/v1/actions?status=cancelled", token: tokens.viewer).json as? [String: Any])
            #expect((listed["items"] as? [[String: Any]])?.count == cancelled)
            let poam = try await server.call("GET", "/v1/exports/oscal-poam", token: tokens.viewer)
            #expect(poam.status == 200 && poam.body.contains("Cancelled, not done: cancelled: recall released by pipeline: retrained"), "\(poam.status) \(poam.body.prefix(300))")
            let again = try await server.call("POST", "/v1/recalls/release", token: tokens.editor, body: Data(#"{"subject": "model:acme-support-ft", "reason": "retrained"}"#.utf8))
            #expect(again.status == 404)

            // The report over HTTP, as the meeting reads it.
            let html = try await server.call("GET", "/v1/report", token: tokens.viewer)
            #expect(html.status == 200 && html.body.hasPrefix("<!DOCTYPE html>") && html.body.contains("What to do") && html.body.contains("Remediation actions"))
            #expect(html.body.contains("0 done, \(cancelled) cancelled when their recall was released (not done)"), "the report counts them apart")
            let markdown = try await server.call("GET", "/v1/report?format=markdown", token: tokens.viewer)
            #expect(markdown.status == 200 && markdown.body.hasPrefix("# Backdoor exposure review, "))
            #expect(try await server.call("GET", "/v1/report?format=pdf", token: tokens.viewer).status == 400)
            #expect(try await server.call("GET", "/v1/report").status == 401)
        }
    }
}
