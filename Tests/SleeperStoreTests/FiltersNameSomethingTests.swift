import Foundation
import SleeperCore
import SleeperStore
import Testing

/// A filter or reference that names nothing is an error with the nearest match, never an empty
/// answer that reads as "no gaps" or "not exposed".
@Suite("Filters and references that name nothing", .timeLimit(.minutes(8)))
struct FiltersNameSomethingTests {
    @Test("gaps, evidence and exposure refuse subjects, owners and resources that do not exist, suggesting the nearest; frameworks match case-insensitively")
    func commandLine() async throws {
        try await ExportStoreTests.withEstate { _, url in
            func run(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url]) }
            let cases: [([String], String)] = [
                (["gaps", "--subject", "model:nope"], "no model 'nope' in the inventory"),
                (["gaps", "--subject", "model:acme-support"], "did you mean 'model:acme-support-ft'?"),
                (["gaps", "--owner", "nobody"], "no owner 'nobody' in the inventory"),
                (["evidence", "list", "--subject", "model:nope"], "no model 'nope' in the inventory"),
                (["exposure", "--owner", "payments"], "no owner 'payments' in the inventory; did you mean 'payments-platform'?"),
                (["exposure", "--resource", "nope"], "no resource 'nope' in the inventory"),
                (["coverage", "--framework", "owasp-nope"], "unknown framework 'owasp-nope'; the frameworks are"),
                (["controls", "show", "ASI4"], "did you mean"),
                (["findings", "--agent", "support-agnet"], "no agent 'support-agnet' in the inventory"),
                (["actions", "--owner", "paymnets-platform"], "no owner 'paymnets-platform' in the inventory; did you mean 'payments-platform'?"),
                (["actions", "--recall", "99"], "no recall #99 (there is none)"),
                (["actions", "export", "--format", "json", "--owner", "nobody"], "no owner 'nobody' in the inventory"),
                (["evidence", "list", "--control", "SLP-ROTATON"], "no control 'SLP-ROTATON' in the catalog; did you mean 'SLP-ROTATION'?"),
            ]
            for (args, message) in cases {
                let result = try await run(args)
                #expect(result.status == 1, "\(args): \(result.status) \(result.stdout)")
                #expect(result.stderr.contains(message), "\(args): \(result.stderr)")
            }
            for id in ["owasp-nhi", "OWASP-NHI", "Owasp-Nhi"] {
                let result = try await run(["coverage", "--framework", id])
                #expect(result.status == 0, "\(id): \(result.stderr)")
                #expect(result.stdout.contains("NHI1"))
            }
            for (args, message) in [
                (["exposure", "--top", "0"], "--top: 0 is not a number of rows; give 1 or more"),
                (["exposure", "--top", "-1"], "--top: -1 is not a number of rows; give 1 or more"),
                (["exposure", "--min-score", "150"], "--min-score: 150 is outside 0–100"),
                (["audit", "--limit", "0"], "--limit: 0 is not a number of entries"),
            ] {
                let result = try await run(args)
                #expect(result.status != 0 && result.stderr.contains(message), "\(args): \(result.status) \(result.stderr)")
            }
            // The latest entries, in order: the last of them is the newest of all.
            let all = try await run(["audit", "--format", "csv"]).stdout.split(whereSeparator: \.isNewline).dropFirst()
            let three = try await run(["audit", "--limit", "3", "--format", "csv"]).stdout.split(whereSeparator: \.isNewline).dropFirst()
            #expect(three.map(String.init) == all.suffix(3).map(String.init), "\(three) vs the last of \(all.count)")
            await #expect(try run(["gaps", "--owner", "payments-platform"]).status == 0)
            await #expect(try run(["exposure", "--owner", "payments-platform"]).status == 0)
        }
    }

    @Test("the API answers 404 with the nearest match, and the same control and item IDs as the CLI (A2, ASI04)")
    func api() async throws {
        try await ServerTests.withServer { server, tokens, _ in
            let gaps = try await server.call("GET", "/v1/gaps?subject=model:nope", token: tokens.viewer)
            #expect(gaps.status == 404, "\(gaps.body)")
            #expect(gaps.body.contains("no model 'nope'"))
            #expect(try await server.call("GET", "/v1/gaps?owner=nobody", token: tokens.viewer).status == 404)
            #expect(try await server.call("GET", "/v1/evidence?subject=agent:nope", token: tokens.viewer).status == 404)
            let owner = try await server.call("GET", "/v1/exposures?owner=payments", token: tokens.viewer)
            #expect(owner.status == 404)
            #expect(owner.body.contains("did you mean 'payments-platform'?"))
            #expect(try await server.call("GET", "/v1/coverage?framework=OWASP-NHI", token: tokens.viewer).status == 200)
            #expect(try await server.call("GET", "/v1/coverage?framework=nope", token: tokens.viewer).status == 404)
            for id in ["A2", "ASI04", "asi04", "SLP-HITL", "GOVERN%206.1"] {
                let reply = try await server.call("GET", "/v1/controls/\(id)", token: tokens.viewer)
                #expect(reply.status == 200, "\(id): \(reply.body)")
            }
            let a2 = try #require(try await server.call("GET", "/v1/controls/A2", token: tokens.viewer).json as? [String: Any])
            #expect(a2["framework"] as? String == "owasp-agentic")
            #expect((a2["alias_of"] as? [String])?.contains("ASI04") == true)
            #expect(try await server.call("GET", "/v1/controls/NOPE-1", token: tokens.viewer).status == 404)
            let agent = try await server.call("GET", "/v1/findings?agent=nosuch", token: tokens.viewer)
            #expect(agent.status == 404 && agent.body.contains("no agent 'nosuch'"), "\(agent.status) \(agent.body)")
            let actionOwner = try await server.call("GET", "/v1/actions?owner=nosuch", token: tokens.viewer)
            #expect(actionOwner.status == 404 && actionOwner.body.contains("no owner 'nosuch'"), "\(actionOwner.status) \(actionOwner.body)")
            #expect(try await server.call("GET", "/v1/actions?owner=unowned", token: tokens.viewer).status == 200)
            #expect(try await server.call("GET", "/v1/evidence?control=SLP-ROTATON", token: tokens.viewer).status == 404)
        }
    }
}
