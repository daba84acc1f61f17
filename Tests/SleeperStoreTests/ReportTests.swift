import Foundation
import SleeperCore
import SleeperStore
import Testing

@Suite("Risk-review report", .timeLimit(.minutes(8)))
struct ReportTests {
    @Test("the report shows changes since the last run, expiring evidence, unowned subjects and what-if lists")
    func markdownReport() async throws {
        try await ExportStoreTests.withEstate { db, url in
            // Human review of the e-mail agent lowers payments-api-key; it expires in 10 days.
            let expires = Timestamps.formatDay(Date().addingTimeInterval(10 * 86400))
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "agent:email-triage", "--control", "SLP-HITL", "--result", "pass",
                "--expires", expires, "--database-url", url,
            ])
            try #require(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("run 2, incremental over run 1"), "recording evidence rescored what it reaches")

            let run = try await Fixtures.sleeper(["report", "--database-url", url])
            #expect(run.status == 0, "\(run.stderr)")
            let md = run.stdout
            #expect(md.hasPrefix("# Backdoor exposure review, "))
            for heading in [
                "## What to do", "## Where the estate stands", "## Remediation actions", "## Accepted risks", "## Top exposures",
                "## Changes since the last review", "## Gaps by framework item", "## Evidence that lapsed or is about to",
                "## Subjects without an owner",
            ] {
                #expect(md.contains(heading), "missing \(heading)")
            }
            #expect(md.contains("Run 1 → run 2: 0 credentials got worse"))
            let better = try #require(md.split(separator: "\n").first { $0.hasPrefix("| payments-api-key | 96 |") })
            #expect(better.contains("pass for SLP-HITL on agent:email-triage recorded (evidence #"), "the reason names the change: \(better)")
            #expect(md.contains("| \(expires) | agent:email-triage | SLP-HITL | valid |"))
            #expect(md.contains("| credential | ci-deploy-key |"), "ci-deploy-key has no owner in the example")
            #expect(md.contains("What would lower payments-api-key"))
            let bands = try await ScoreRuns(db).exposures(run: 2, top: nil, band: .critical, minScore: nil, owner: nil, resource: nil).count
            #expect(md.contains("| critical | \(bands) |"))

            // --since a run id compares with that run; an unknown run is refused by name.
            #expect(try await Fixtures.sleeper(["report", "--since", "1", "--database-url", url]).stdout.contains("Run 1 → run 2"))
            let unknown = try await Fixtures.sleeper(["report", "--since", "99", "--database-url", url])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("--since: no scoring run 99"))
        }
    }

    @Test("the HTML report is one self-contained file with inline SVG charts")
    func htmlReport() async throws {
        try await ExportStoreTests.withEstate { _, url in
            // The trend has a point per day: the next day's run makes the second.
            let tomorrow = TestClock.environment(Date().addingTimeInterval(86400))
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: tomorrow).status == 0)
            let file = try ExportStoreTests.scratch().appending(path: "review.html")
            let run = try await Fixtures.sleeper(["report", "--format", "html", "--out", file.path, "--database-url", url], environment: tomorrow)
            #expect(run.status == 0, "\(run.stderr)")
            let html = try String(contentsOf: file, encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.components(separatedBy: "<svg ").count - 1 == 4, "distribution, attack paths, trend and coverage charts")
            #expect(html.contains("aria-label=\"Top attack paths\""))
            #expect(html.contains("aria-label=\"Score distribution\""))
            #expect(html.contains("aria-label=\"Critical and high across runs\""))
            #expect(!html.contains("<script"))
            #expect(!html.contains("src=\""), "nothing is fetched")
            #expect(!html.contains("<link"))
            #expect(html.contains("@media print"))
            #expect(html.contains("acme-support-ft → email-triage → payments-api-key → payments-api"))
        }
    }
}
