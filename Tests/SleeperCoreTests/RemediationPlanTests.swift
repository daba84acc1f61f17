import Foundation
import SleeperCore
import Testing

/// Recalls in the scoring model, and the plan of actions a recall makes.
@Suite("Recall and remediation plan", .timeLimit(.minutes(2)))
struct RemediationPlanTests {
    static let engine = ScoringEngineTests.engine
    static var policy: RemediationPolicy {
        get throws { try RemediationPolicy.read(Data(contentsOf: ShippedCatalog.root.appending(path: "Controls/remediation.yaml"))).get() }
    }

    @Test("a recalled model counts as certain: L = 1, L* = 1 downstream of nothing else, and the credential's P follows")
    func recalledModel() throws {
        var input = ScoringEngineTests.workedExample()
        let before = try Self.engine.score(input)
        input.models[0].recall = 4
        let after = try Self.engine.score(input)
        #expect(after.models[0].l == 1 && after.models[0].lStar == 1)
        #expect(abs(after.models[1].lStar - (1 - (1 - before.models[1].l) * (1 - 0.7))) < 1e-12, "the fine-tune inherits through finetune, 0.7")
        #expect(after.credentials[0].score > before.credentials[0].score)
        #expect(ScoreExplanation.mainFactor(model: 0, input: input, result: after, weights: Self.engine.weights) == "recalled (recall #4) on vendor-base")
        #expect(ScoreExplanation.mainFactor(model: 1, input: input, result: after, weights: Self.engine.weights).hasPrefix("acme-ft") == false)
    }

    @Test("a recalled agent is taken as compromised whatever gates it; a recalled dataset's risk is 1")
    func recalledAgentAndDataset() throws {
        var input = ScoringEngineTests.workedExample()
        input.agents[0].controls["SLP-HITL"] = ScoringInput.ControlState(validity: 1, evidenceID: 1)
        #expect(try Self.engine.score(input).agentA[0] < 0.3)
        input.agents[0].recall = 2
        let recalled = try Self.engine.score(input)
        #expect(recalled.agentB[0] == 1 && recalled.agentA[0] == 1)
        #expect(abs(recalled.credentials[0].p - 1) < 1e-12, "runtime_env delivery 1.0 × A 1.0")

        var data = ScoringEngineTests.workedExample()
        data.datasets = [ScoringInput.Dataset(key: "scraped", provenance: .curatedScreened)]
        data.models[1].datasets = [0]
        let screened = try Self.engine.score(data).models[1].lStar
        data.datasets[0].recall = 3
        let poisoned = try Self.engine.score(data).models[1].lStar
        #expect(abs((1 - poisoned) - (1 - screened) / (1 - 0.9 * 0.05) * (1 - 0.9)) < 1e-12, "the dataset's risk goes from 0.05 to 1")
    }

    @Test("the plan: credentials riskiest first, then agents, then models; due by band; the recall's worst band for agents and models")
    func plan() throws {
        let start = try #require(Timestamps.parse("2026-12-01T00:00:00Z"))
        let reach = RecallReach(
            models: [.init(key: "m-b", owner: nil, digest: "sha256:1"), .init(key: "m-a", owner: "ml")],
            agents: [.init(key: "bot", owner: "ops")],
            credentials: [
                .init(key: "low-key", owner: nil, score: 10, band: .low, raw: 0.1),
                .init(key: "top-key", owner: "pay", score: 100, band: .critical, raw: 1.7),
                .init(key: "also-100", owner: "pay", score: 100, band: .critical, raw: 1.2),
            ])
        let plan = RecallPlan.actions(reach, policy: try Self.policy, from: start)
        #expect(plan.map(\.subject.description) == ["credential:top-key", "credential:also-100", "credential:low-key", "agent:bot", "model:m-a", "model:m-b"])
        #expect(plan.map(\.action) == [.rotateOrRevoke, .rotateOrRevoke, .rotateOrRevoke, .disableOrRepoint, .replace, .replace])
        // Due at the end of the day N days on: not overdue during the day it is due.
        func endOfDay(_ d: Date) -> Date { Date(timeIntervalSince1970: (d.timeIntervalSince1970 / 86400).rounded(.down) * 86400 + 86399) }
        #expect(plan[0].due == endOfDay(start.addingTimeInterval(7 * 86400)) && plan[2].due == endOfDay(start.addingTimeInterval(180 * 86400)))
        let action = RemediationAction(
            id: 1, recall: 1, subject: plan[0].subject, action: plan[0].action, owner: nil, band: plan[0].band, score: nil,
            due: plan[0].due, status: .open, created: start, closed: nil, closedBecause: nil, acceptedUntil: nil, acceptedBy: nil)
        #expect(!action.overdue(at: endOfDay(start.addingTimeInterval(7 * 86400)).addingTimeInterval(-12 * 3600)), "not overdue at noon of the day it is due")
        #expect(action.overdue(at: endOfDay(start.addingTimeInterval(7 * 86400)).addingTimeInterval(1)))
        #expect(plan[3].band == .critical && plan[5].digest == "sha256:1" && plan[2].owner == nil)
        #expect(ActionListing.summary(plan) == "6 action(s): 5 critical (due by 2026-12-08), 1 low (due by 2027-05-30); 2 unowned")
    }

    @Test("remediation.yaml: every band is required, with days from 1 to 3650; an unknown band is refused")
    func policyChecked() throws {
        guard
            case .failure(let p) = RemediationPolicy.read(
                Data("version: '1'\ndue_days: {critical: 0, high: 30, medium: 90, severe: 3}\nacceptance_max_days: {critical: 30, high: 90, medium: 180, low: 365}\n".utf8))
        else {
            Issue.record("read")
            return
        }
        #expect(p.description.contains("due_days.critical: must be between 1 and 3650, got 0"))
        #expect(p.description.contains("due_days.low: is required"))
        #expect(p.description.contains("due_days.severe: is not a band"))
    }

    @Test("Jira tickets: an unowned action leaves Team empty (not 'unowned'); an accepted one says so in its labels and description; a cancelled one says why")
    func tickets() {
        let due = Date(timeIntervalSince1970: 1_796_515_199)
        func action(_ id: Int, owner: String?, status: ActionStatus, until: Date? = nil, because: String? = nil) -> RemediationAction {
            RemediationAction(
                id: id, recall: 1, subject: Subject(kind: .credential, key: "k\(id)"), action: .rotateOrRevoke, owner: owner, band: .high, score: 70,
                due: due, status: status, created: due, closed: because == nil ? nil : due, closedBecause: because, acceptedUntil: until, acceptedBy: until == nil ? nil : "ciso")
        }
        let csv = ActionTickets.render(
            [
                action(1, owner: nil, status: .open), action(2, owner: "payments", status: .accepted, until: due),
                action(3, owner: "payments", status: .cancelled, because: "cancelled: recall released by ciso: retrained"),
            ], as: .jiraCSV)
        let rows = csv.split(separator: "\r\n").map(String.init)
        #expect(rows[1].hasSuffix(",sleeper recall-1 high,,sleeper-action-1"), "\(rows[1])")
        #expect(rows[2].contains("sleeper recall-1 high accepted") && rows[2].contains("Accepted until \(Timestamps.formatDay(due)) by ciso."), "\(rows[2])")
        #expect(rows[3].contains("Cancelled, not done: cancelled: recall released by ciso: retrained"), "\(rows[3])")
    }
}
