import Foundation
import SleeperCore
import SleeperStore
import Testing

/// No field stores or echoes a secret: every free-text field of every route and reader is
/// checked by the same check, and nothing judged secret reaches an answer, the server's log, the
/// audit log or any table — not inside a key made from it either.
@Suite("Secrets in every field", .timeLimit(.minutes(8)))
struct SecretFieldTests {
    /// Secrets, each with a fragment that appears nowhere else (what is looked for afterwards).
    static let github = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
    static let gitlabRunner = "glrt-t1_AbCdEfGhIjKlMnOpQrSt"
    static let basic = "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw=="
    static let redis = "redis://:S3cr3tRedisPass@cache.internal:6379/0"
    static let mcpPassword = "Sup3rS3cretPw1"
    static let apiKey = "kR7vQ2mX9pL4zW8nB3cJ6hT1yF5gD0sA"
    static let fragments = ["aB3dE5fG7hJ9kL1mN3pQ", "t1_AbCdEfGhIjKlMnOpQrSt", "dXNlcjpwYXNzd29yZDEyMw", "S3cr3tRedisPass", mcpPassword, apiKey]

    static func leaks(_ text: String) -> [String] { fragments.filter { text.contains($0) } }

    /// Every row of every table, as text.
    static func everyRow(_ db: Database) async throws -> String {
        var out = ""
        for try await text in try await db.client.query(
            """
            SELECT query_to_xml(format('SELECT * FROM %I.%I', schemaname, tablename), true, false, '')::text
            FROM pg_tables WHERE schemaname = 'public'
            """, logger: db.logger
        ).decode(String.self) { out += text }
        return out
    }

    static func body(_ text: String) -> Data { Data(text.utf8) }

    @Test("free text, headers, query parameters, source fields, MCP URLs and trace names: refused or redacted, never stored or echoed")
    func everyField() async throws {
        try await ServerTests.withServer { server, tokens, db in
            var answers: [String] = []
            func refused(_ reply: ServerProcess.Reply, _ what: String) {
                #expect(reply.status == 400, "\(what): \(reply.status) \(reply.body)")
                #expect(reply.body.contains("secret material") || reply.body.contains("at most"), "\(what): \(reply.body)")
                answers.append(reply.body)
            }
            // Recall and release: reason and by.
            refused(
                try await server.call(
                    "POST", "/v1/recalls", token: tokens.editor,
                    body: Self.body(#"{"subject": "model:acme-support-ft", "reason": \#(JSONText.string(Self.basic))}"#)), "recall reason")
            refused(
                try await server.call(
                    "POST", "/v1/recalls", token: tokens.editor,
                    body: Self.body(#"{"subject": "model:acme-support-ft", "reason": "suspected", "by": "\#(Self.gitlabRunner)"}"#)), "recall by")
            // Acceptance: approved_by too long is a 400 (not a 500 with the row in the log), a secret is refused.
            let until = Timestamps.formatDay(SleeperClock.now().addingTimeInterval(30 * 86400))
            refused(
                try await server.call(
                    "POST", "/v1/acceptances", token: tokens.editor,
                    body: Self.body(
                        """
                        {"subject": "credential:payments-api-key", "control": "SLP-ROTATION", "until": "\(until)", "by": "\(String(repeating: "b", count: 300))", "reason": "r"}
                        """)), "acceptance by, 300 characters")
            refused(
                try await server.call(
                    "POST", "/v1/acceptances", token: tokens.editor,
                    body: Self.body(
                        """
                        {"subject": "credential:payments-api-key", "control": "SLP-ROTATION", "until": "\(until)", "by": "ops", "reason": \(JSONText.string(Self.redis))}
                        """)), "acceptance reason")
            // Token revocation's reason (a query parameter) and the source name.
            refused(try await server.call("DELETE", "/v1/tokens/dash?reason=" + Self.redis.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: tokens.admin), "revoke reason")
            refused(
                try await server.call(
                    "POST", "/v1/inventory/import?from=github-tokens&source=" + Self.github, token: tokens.editor,
                    body: try Data(contentsOf: Fixtures.packageRoot.appending(path: "Tests/Fixtures/sources/github-tokens.json"))), "source name")
            // A permission's name becomes a scope.
            refused(
                try await server.call(
                    "POST", "/v1/inventory/import?from=github-tokens", token: tokens.editor,
                    body: Self.body(
                        """
                        [{"token_id": 7, "owner": {"login": "octo"}, "permissions": {"repository": {"\(Self.github)": "write"}}}]
                        """)), "permission name")
            // The Idempotency-Key is kept as its hash: the request works, the key is nowhere.
            let keyed = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Self.body(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass"}"#),
                headers: ["Idempotency-Key": Self.github])
            #expect(keyed.status == 201, "\(keyed.body)")
            let replayed = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Self.body(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass"}"#),
                headers: ["Idempotency-Key": Self.github])
            #expect(replayed.headers["idempotent-replayed"] == "true")
            let reused = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Self.body(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "fail"}"#),
                headers: ["Idempotency-Key": Self.github])
            #expect(reused.status == 422)
            answers += [keyed.body, replayed.body, reused.body]
            // An MCP server URL with a password and an api_key: a finding and an exposed credential;
            // the endpoint is stored without them.
            let mcp = try await server.call(
                "POST", "/v1/inventory/import?from=mcp-config&source=mcp:laptop", token: tokens.editor,
                body: Self.body(
                    """
                    {"mcpServers": {"payments": {"url": "https://deploy:\(Self.mcpPassword)@mcp.payments.example/sse?api_key=\(Self.apiKey)&region=eu"}}}
                    """))
            #expect(mcp.status == 200 || mcp.status == 201, "\(mcp.body)")
            #expect(mcp.body.contains("credentials in an MCP server URL"), "\(mcp.body)")
            answers.append(mcp.body)
            #expect(try await db.count("SELECT count(*) FROM agents WHERE key = 'mcp:laptop/payments' AND endpoints = ARRAY['https://mcp.payments.example/sse']") == 1)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'mcp:laptop/payments/url' AND exposed") == 1)
            // A trace whose tool name is a secret: the span is not kept, and the answer says why without it.
            let spans = [
                RuntimeSpans.span("t1", "s1", [RuntimeSpans.attr("gen_ai.agent.name", "email-triage"), RuntimeSpans.attr("gen_ai.tool.name", Self.github)]),
                RuntimeSpans.span("t1", "s2", [RuntimeSpans.attr("gen_ai.agent.name", "email-triage"), RuntimeSpans.attr("gen_ai.request.model", Self.redis)]),
            ]
            let traced = try await server.call("POST", "/v1/traces", token: tokens.editor, body: RuntimeSpans.document(spans))
            #expect(traced.status == 200, "\(traced.body)")
            #expect(traced.body.contains("secret material"), "\(traced.body)")
            answers.append(traced.body)

            // The command line: the same check, naming the option.
            let cli = try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "suspected", "--by", Self.gitlabRunner, "--database-url", server.databaseURL ?? ""])
            #expect(cli.status != 0)
            #expect(cli.stderr.contains("--by looks like secret material"), "\(cli.stderr)")
            answers += [cli.stdout, cli.stderr]

            for answer in answers { #expect(Self.leaks(answer).isEmpty, "an answer repeats a secret: \(answer)") }
            #expect(Self.leaks(server.log).isEmpty, "the server's log holds a secret: \(Self.leaks(server.log))")
            let rows = try await Self.everyRow(db)
            #expect(Self.leaks(rows).isEmpty, "stored: \(Self.leaks(rows))")
            #expect(try await db.count("SELECT count(*) FROM recalls") == 0)
        }
    }
}

/// OTLP/JSON built by hand, for tests of what a span's attributes do.
enum RuntimeSpans {
    static func attr(_ k: String, _ v: String) -> String { #"{"key":"\#(k)","value":{"stringValue":\#(JSONText.string(v))}}"# }

    static func span(_ trace: String, _ id: String, _ attributes: [String]) -> String {
        #"{"traceId":"\#(trace)","spanId":"\#(id)","parentSpanId":"","name":"s","startTimeUnixNano":"1796083200000000000","attributes":[\#(attributes.joined(separator: ","))]}"#
    }

    static func document(_ spans: [String]) -> Data {
        Data(#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"t"},"spans":[\#(spans.joined(separator: ","))]}]}]}"#.utf8)
    }
}
