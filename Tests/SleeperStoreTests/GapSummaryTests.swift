import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper gaps` answers with counts first; the counts are taken without listing every subject,
/// so they are checked against the full listing, kind of gap by kind of gap.
@Suite("Gaps: the summary agrees with the listing", .timeLimit(.minutes(8)))
struct GapSummaryTests {
    /// (control, status) → rows of a `gaps --list --format csv` listing, or (item, control, status) by framework.
    static func tally(_ csv: String, columns: [String]) -> [String: Int] {
        let lines = csv.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return [:] }
        let at = columns.compactMap { header.firstIndex(of: $0) }
        var out: [String: Int] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            out[at.map { cells[$0] }.joined(separator: " "), default: 0] += 1
        }
        return out
    }

    @Test("counts per control and status (and per framework item) equal the listing's, with evidence passing, failed, expired and accepted; the API gives the same")
    func summaryMatchesListing() async throws {
        let env = TestClock.environment()
        try await ExportStoreTests.withEstate { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: env) }
            // An accepted gap on a subject with no evidence at all, and one on a subject with some.
            await #expect(
                try sleeper([
                    "accept", "model:llama-3-8b", "--control", "SLP-REDTEAM", "--until", Timestamps.formatDay(TestClock.now.addingTimeInterval(10 * 86400)),
                    "--by", "ml-security", "--reason", "red team booked",
                ]).status == 0)
            await #expect(
                try sleeper([
                    "accept", "credential:crm-oauth", "--control", "SLP-ROTATION", "--until", Timestamps.formatDay(TestClock.now.addingTimeInterval(10 * 86400)),
                    "--by", "iam", "--reason", "vendor rotates in December",
                ]).status == 0)

            let listing = try await sleeper(["gaps", "--list", "--format", "csv"])
            #expect(listing.status == 0, "\(listing.stderr)")
            let expected = Self.tally(listing.stdout, columns: ["control", "status"])
            #expect(Set(expected.keys.map { $0.split(separator: " ")[1] }).isSuperset(of: ["missing", "failed", "accepted"]), "\(expected)")

            let summary = try await sleeper(["gaps", "--format", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [[String: Any]])
            var counted: [String: Int] = [:]
            for r in rows { counted["\(r["control"] ?? "") \(r["status"] ?? "")"] = r["subjects"] as? Int }
            #expect(counted == expected)

            let table = try await sleeper(["gaps"])
            #expect(table.stdout.contains("\(ReviewReport.n(expected.values.reduce(0, +))) gap(s) as of"), "\(table.stdout)")

            let byItem = try await sleeper(["gaps", "--list", "--framework", "owasp-agentic", "--format", "csv"])
            let itemSummary = try await sleeper(["gaps", "--framework", "owasp-agentic", "--format", "csv"])
            var summed: [String: Int] = [:]
            for line in itemSummary.stdout.split(whereSeparator: \.isNewline).dropFirst() {
                let c = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
                if c.count == 4 { summed["\(c[0]) \(c[1]) \(c[2])"] = Int(c[3]) }
            }
            #expect(summed == Self.tally(byItem.stdout, columns: ["item", "control", "status"]))

            // A page of the listing is that part of the whole listing.
            let all = listing.stdout.split(whereSeparator: \.isNewline)
            let page = try await sleeper(["gaps", "--list", "--limit", "5", "--offset", "7", "--format", "csv"]).stdout.split(whereSeparator: \.isNewline)
            #expect(Array(page.dropFirst()) == Array(all.dropFirst(8).prefix(5)))
            await #expect(try sleeper(["gaps", "--list", "--limit", "0"]).status != 0)

            let viewer = try await TokenStore(db).create(name: "dash", role: .viewer, by: "test")
            let server = try await ServerProcess(databaseURL: url, environment: env)
            defer { server.terminate() }
            let api = try await server.call("GET", "/v1/gaps/summary", token: viewer)
            #expect(api.status == 200)
            let apiRows = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [[String: Any]])
            #expect(apiRows.count == rows.count && apiRows.map { $0["subjects"] as? Int } == rows.map { $0["subjects"] as? Int })
            #expect(try await server.call("GET", "/v1/gaps/summary", token: nil).status == 401)

            // A page over HTTP is the same part of the listing, cut in the query.
            let subjects = all.dropFirst().map { String($0.split(separator: ",", maxSplits: 1)[0]) }
            let pageReply = try await server.call("GET", "/v1/gaps?limit=5&offset=7", token: viewer)
            let pageBody = try #require(try JSONSerialization.jsonObject(with: Data(pageReply.body.utf8)) as? [String: Any])
            let items = try #require(pageBody["items"] as? [[String: Any]])
            #expect(items.map { $0["subject"] as? String ?? "" } == Array(subjects.dropFirst(7).prefix(5)))
            #expect(pageBody["next_offset"] as? Int == 12)
            let last = try await server.call("GET", "/v1/gaps?limit=5&offset=\(subjects.count - 2)", token: viewer)
            let lastBody = try #require(try JSONSerialization.jsonObject(with: Data(last.body.utf8)) as? [String: Any])
            #expect((lastBody["items"] as? [[String: Any]])?.count == 2 && lastBody["next_offset"] is NSNull, "\(last.body)")
        }
    }
}
