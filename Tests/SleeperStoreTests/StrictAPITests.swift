import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Bad input over the API and the command line is refused with a located error, quickly, never
/// with a 500, and a secret is never repeated once it is judged one.
@Suite("Strict input over the API and the command line", .timeLimit(.minutes(8)))
struct StrictAPITests {
    static let bomb: String = {
        var text = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        return text + "models: *a9\nevidence: *a9\n"
    }()

    @Test("unknown query parameters, wrong Content-Type, alias bombs, NUL, quoted numbers and huge names are refused, located")
    func refusals() async throws {
        try await ServerTests.withServer { server, tokens, db in
            let unknown = try await server.call("GET", "/v1/exposures?owners=payments", token: tokens.viewer)
            #expect(unknown.status == 400)
            #expect(unknown.body.contains("unknown query parameter 'owners'"), "\(unknown.body)")
            #expect(unknown.body.contains("query: owners"))
            let wrongType = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass"}"#.utf8),
                contentType: "text/plain")
            #expect(wrongType.status == 415, "\(wrongType.body)")
            let yaml = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data("subject: agent:email-triage\ncontrol: SLP-HITL\nresult: pass\n".utf8), contentType: "application/yaml")
            #expect(yaml.status == 201, "\(yaml.body)")

            for path in ["/v1/inventory/import", "/v1/evidence", "/v1/evidence/import"] {
                let started = Date()
                let reply = try await server.call("POST", path, token: tokens.editor, body: Data(Self.bomb.utf8), contentType: "application/yaml")
                #expect(reply.status == 400, "\(path): \(reply.status)")
                #expect(reply.body.contains("expands to more than"), "\(path): \(reply.body)")
                // Not a speed test: expanded, this document is ten billion values and would never be
                // answered. Alone it takes a tenth of a second; on a machine busy with the whole
                // suite it once took six.
                #expect(Date().timeIntervalSince(started) < 30, "\(path) answered a bomb in \(Date().timeIntervalSince(started)) s")
            }
            let nul = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass", "note": "a\u0000b"}"#.utf8))
            #expect(nul.status == 400, "\(nul.body)")
            let quoted = try await server.call(
                "POST", "/v1/inventory/import", token: tokens.editor,
                body: Data(#"{"resources": [{"key": "r-new", "tier": "0"}]}"#.utf8))
            #expect(quoted.status == 400)
            #expect(quoted.body.contains("must be a number, not the text '0'"), "\(quoted.body)")
            let huge = try await server.call(
                "POST", "/v1/inventory/import", token: tokens.editor,
                body: Data(#"{"resources": [{"key": "r-new", "tier": 1, "name": "\#(String(repeating: "n", count: 10_000))"}]}"#.utf8))
            #expect(huge.status == 400)
            #expect(huge.body.contains("is longer than 4096 bytes"))
            #expect(try await db.count("SELECT count(*) FROM resources WHERE key = 'r-new'") == 0)
            #expect(!server.log.contains("Fatal"))
        }
    }

    @Test("once a value is judged secret no other message repeats it: enum, reference, evidence artifact, token name, usage errors")
    func secretsNotRepeated() async throws {
        let token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
        try await ServerTests.withServer { server, tokens, _ in
            let inventory = try await server.call(
                "POST", "/v1/inventory/import", token: tokens.editor,
                body: Data(
                    """
                    {"credentials": [{"key": "c-new", "kind": "\(token)", "created_at": "\(token)"}],
                     "agents": [{"key": "a-new", "uses_models": ["\(token)"]}]}
                    """.utf8))
            #expect(inventory.status == 400)
            #expect(!inventory.body.contains("ghp_"), "\(inventory.body)")
            #expect(inventory.body.contains("looks like secret material (a GitHub token)"))

            let evidence = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(
                    """
                    {"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass",
                     "artifacts": [{"name": "\(token)", "sha256": "\(String(repeating: "a", count: 64))", "size": 1}]}
                    """.utf8))
            #expect(evidence.status == 400)
            #expect(!evidence.body.contains("ghp_"))
            #expect(evidence.body.contains("artifacts[0].name"), "\(evidence.body)")

            let named = try await server.call("POST", "/v1/tokens", token: tokens.admin, body: Data(#"{"name": "\#(token)", "role": "viewer"}"#.utf8))
            #expect(named.status == 400)
            #expect(!named.body.contains("ghp_"), "\(named.body)")
        }
        let usage = try await Fixtures.sleeper([
            "evidence", "add", "--subject", "model:m", "--control", "C", "--result", "pass",
            "--note", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        ])
        #expect(usage.status != 0)
        #expect(!usage.stderr.contains("BEGIN RSA") && !usage.stderr.contains("MIIEpAIBAAKCAQEA"), "\(usage.stderr)")
    }
}
