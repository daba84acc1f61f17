import Foundation
import SleeperCore
import Testing

@Suite("Inventory reader", .timeLimit(.minutes(2)))
struct InventoryReaderTests {
    func read(_ text: String, file: String = "t.yaml") -> Result<ParsedInventory, InventoryProblems> {
        InventoryReader.read(Data(text.utf8), file: file)
    }

    @Test("YAML and JSON of the same shape read the same")
    func yamlAndJSONAgree() throws {
        let yaml = try read(
            """
            resources: [{key: r, tier: 0}]
            credentials: [{key: c, kind: api_key, exposed: true, ttl_seconds: 3600, created_at: 2026-01-02, grants: [{resource: r, action: write}]}]
            models: [{key: m, third_party: true, serialization: pickle}]
            agents: [{key: a, input_trust: internal, uses_models: [m], holds: [{credential: c, delivery: tool_held}]}]
            """
        ).get().inventory
        let json = try read(
            """
            {"resources": [{"key": "r", "tier": 0}],
             "credentials": [{"key": "c", "kind": "api_key", "exposed": true, "ttl_seconds": 3600, "created_at": "2026-01-02", "grants": [{"resource": "r", "action": "write"}]}],
             "models": [{"key": "m", "third_party": true, "serialization": "pickle"}],
             "agents": [{"key": "a", "input_trust": "internal", "uses_models": ["m"], "holds": [{"credential": "c", "delivery": "tool_held"}]}]}
            """, file: "t.json"
        ).get().inventory
        #expect(yaml == json)
        #expect(json.credentials[0].exposed)
        #expect(json.credentials[0].ttlSeconds == 3600)
        #expect(json.credentials[0].createdAt == Timestamps.parse("2026-01-02T00:00:00Z"))
        #expect(json.models[0].serialization == .pickle)
    }

    @Test("defaults: missing input_trust is untrusted; listing datasets declares them")
    func defaults() throws {
        let inv = try read(
            """
            datasets: [{key: d}]
            models: [{key: m1, trained_on: [d]}, {key: m2}]
            agents: [{key: a}]
            """
        ).get().inventory
        #expect(inv.agents[0].inputTrust == .untrusted)
        #expect(inv.models[0].trainingDataDeclared)
        #expect(!inv.models[1].trainingDataDeclared)
        #expect(inv.datasets[0].provenance == .unknown)
    }

    @Test("wrong shapes and unknown sections are located")
    func shapes() throws {
        guard
            case .failure(let p) = read(
                """
                modles: []
                agents: {key: a}
                credentials: [{key: c, exposed: maybe, ttl_seconds: -5}, "just a string", {name: no-key}]
                """)
        else { Issue.record("accepted"); return }
        let paths = p.problems.map(\.path)
        #expect(paths.contains("modles"))
        #expect(paths.contains("agents"))
        #expect(paths.contains("credentials[0].exposed"))
        #expect(paths.contains("credentials[0].ttl_seconds"))
        #expect(paths.contains("credentials[1]"))
        #expect(paths.contains("credentials[2].key"))
    }

    @Test("invalid syntax names the file")
    func syntax() {
        guard case .failure(let p) = read("{\"models\": [", file: "broken.json") else { Issue.record("accepted"); return }
        #expect(p.problems.first?.description.hasPrefix("broken.json: is not valid JSON") == true)
    }

    @Test("self references and repeated edges")
    func selfAndRepeats() {
        guard
            case .failure(let p) = read(
                """
                models: [{key: m, derived_from: [{model: m, relation: finetune}]}]
                agents: [{key: a, delegates_to: [a], uses_models: [m, m]}]
                """)
        else { Issue.record("accepted"); return }
        let messages = p.problems.map(\.description)
        #expect(messages.contains("t.yaml: models[0].derived_from[0].model: a model cannot derive from itself"))
        #expect(messages.contains("t.yaml: agents[0].delegates_to[0]: an agent cannot delegate to itself"))
        #expect(messages.contains("t.yaml: agents[0].uses_models[1]: model is listed twice"))
    }
}

@Suite("Secret scanner", .timeLimit(.minutes(2)))
struct SecretScannerTests {
    @Test(
        "known secret shapes are recognised",
        arguments: [
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
            ("ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A", "GitHub token"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCD", "GitHub token"),
            ("xoxb-1234567890-abcdefghijkl", "Slack"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe"),
            ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "Google"),
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS secret"),
            ("postgres://app:hunter2@db.internal/prod", "connection string"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JSON Web Token"),
            ("Zx8Qp2Lm7Rt4Wv9Ny3Kb6Hd1Jf5Gs0Ac", "high-entropy"),
        ])
    func recognised(value: String, kind: String) {
        #expect(SecretScanner.secretKind(of: value, field: "note")?.contains(kind) == true)
    }

    @Test(
        "identifiers, digests and prose are not secrets",
        arguments: [
            ("AKIAEXAMPLELEGACY01", "fingerprint"),
            ("sha256:1f9c2a7e4b0d3c8a5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d", "digest"),
            ("arn:aws:iam::123456789012:role/ops-copilot", "fingerprint"),
            ("Customer e-mail triage agent for the EMEA region", "name"),
            ("payments-platform-team-on-call-rotation", "owner"),
            ("Zx8Qp2Lm7Rt4Wv9Ny3Kb6Hd1", "fingerprint"),
        ])
    func notSecrets(value: String, field: String) {
        #expect(SecretScanner.secretKind(of: value, field: field) == nil)
    }
}

@Suite("Topological order and SQL scripts", .timeLimit(.minutes(2)))
struct SupportTests {
    @Test("orders a DAG and finds a cycle")
    func topo() {
        let dag = TopologicalOrder.sort(nodes: ["a", "b", "c"], edges: ["a": ["b"], "b": ["c"]])
        #expect(dag == .ordered(["a", "b", "c"]))
        guard case .cycle(let cycle) = TopologicalOrder.sort(nodes: ["a", "b", "c", "d"], edges: ["a": ["b"], "b": ["c"], "c": ["b"], "d": ["a"]]) else {
            Issue.record("no cycle found"); return
        }
        #expect(Set(cycle) == ["b", "c"])
    }

    @Test("splits statements but not inside quotes, dollar bodies or comments")
    func script() {
        let sql = """
            CREATE TABLE t (a text DEFAULT 'x;y'); -- a comment; with a semicolon
            CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RAISE 'no; never'; END $$ LANGUAGE plpgsql;
            /* block; comment */ SELECT "odd;name" FROM t;
            """
        let statements = SQLScript.statements(sql)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("LANGUAGE plpgsql"))
        #expect(statements[2].hasSuffix("SELECT \"odd;name\" FROM t"))
    }
}
