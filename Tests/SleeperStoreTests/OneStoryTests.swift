import Foundation
import SleeperCore
import SleeperStore
import Testing

/// One story per score: the top path exposure shows is a real chain of edges and is the path
/// explain puts first; path contributions reconcile with P by a stated rule.
@Suite("One story per score", .timeLimit(.minutes(8)))
struct OneStoryTests {
    @Test("every path is a real chain (the first agent uses the model, each hop a delegation edge); exposure's path is explain's top path; P ≥ the largest contribution and ≤ 1 − Π(1 − contribution)")
    func pathsReconcile() async throws {
        try await ExportStoreTests.withEstate { _, url in
            let env = TestClock.environment()
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: env)
            let agents = try await #require(
                try JSONSerialization.jsonObject(with: Data(Fixtures.sleeper(["inventory", "agents", "--format", "json", "--database-url", url]).stdout.utf8)) as? [[String: Any]])
            var uses: [String: Set<String>] = [:], delegatesTo: [String: Set<String>] = [:]
            for a in agents {
                let key = a["key"] as? String ?? ""
                uses[key] = Set(a["uses_models"] as? [String] ?? [])
                delegatesTo[key] = Set(a["delegates_to"] as? [String] ?? [])
            }
            let exposures = try await #require(
                try JSONSerialization.jsonObject(with: Data(Fixtures.sleeper(["exposure", "--format", "json", "--database-url", url], environment: env).stdout.utf8)) as? [[String: Any]])
            var checked = 0
            for row in exposures {
                let credential = try #require(row["credential"] as? String)
                let shown = row["path"] as? [String] ?? []
                let explained = try await Fixtures.sleeper(["explain", "credential:\(credential)", "--format", "json", "--database-url", url], environment: env)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(explained.stdout.utf8)) as? [String: Any])
                let p = try #require(object["p"] as? Double)
                let paths = object["paths"] as? [[String: Any]] ?? []
                for path in paths {
                    let model = path["model"] as? String ?? ""
                    let chain = (path["agent"] as? String ?? "").components(separatedBy: " → ")
                    #expect(uses[chain[0]]?.contains(model) == true, "\(credential): \(chain[0]) does not use \(model)")
                    for (from, to) in zip(chain, chain.dropFirst()) {
                        #expect(delegatesTo[from]?.contains(to) == true, "\(credential): \(from) does not delegate to \(to)")
                    }
                }
                guard p > 0, let top = paths.first else { continue }
                #expect(top["top"] as? Bool == true, "\(credential): the first path is the top path")
                let topPath =
                    [top["model"] as? String ?? ""] + (top["agent"] as? String ?? "").components(separatedBy: " → ")
                    + [credential] + [top["resource"] as? String].compactMap { $0 }
                #expect(shown == topPath, "\(credential): exposure shows \(shown), explain's top path is \(topPath)")
                let contributions = paths.compactMap { $0["contribution"] as? Double }
                let largest = contributions.max() ?? 0
                let combined = 1 - contributions.reduce(1) { $0 * (1 - $1) }
                #expect(p >= largest - 1e-9, "\(credential): P \(p) below its largest path \(largest)")
                #expect(p <= combined + 1e-9, "\(credential): P \(p) above the combination of its paths \(combined)")
                checked += 1
            }
            #expect(checked >= 5)
        }
    }

    @Test("explain model shows each evidence effect (L0 → L), each lineage and dataset term (L → L*), and names a failed scan with its evidence id")
    func explainModelSteps() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail",
                "--database-url", url,
            ])
            #expect(add.status == 0)
            let id = try await db.count("SELECT max(id) FROM evidence")
            let json = try await Fixtures.sleeper(["explain", "model:code-review-ft", "--format", "json", "--database-url", url])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let steps = try #require(object["steps"] as? [String])
            #expect(steps.contains("L0 → L: failed backdoor scan (evidence #\(id)) holds L at 0.9 or more"), "\(steps)")
            #expect(steps.contains { $0.hasPrefix("L → L*: parent hub-coder-7b (finetune") })
            #expect(steps.contains { $0.hasPrefix("L → L*: dataset code-corpus (curated_screened") })
            #expect(steps.last == "main factor: failed backdoor scan on code-review-ft (evidence #\(id))")
            let diff = try await Fixtures.sleeper(["exposure", "diff", "--since", "1", "--format", "csv", "--database-url", url])
            #expect(diff.stdout.contains("new failed backdoor scan on code-review-ft (evidence #\(id))"), "\(diff.stdout) \(diff.stderr) \(add.stdout) \(add.stderr)")
        }
    }
}
