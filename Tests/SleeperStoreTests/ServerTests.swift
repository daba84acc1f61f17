import Foundation
import SleeperCore
import SleeperServer
import SleeperStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The API over real HTTP: `sleeper serve` on a free port against a fresh test database.
@Suite("HTTP service", .timeLimit(.minutes(8)))
struct ServerTests {
    struct Tokens { var viewer: String, editor: String, admin: String }

    static func withServer(
        extra: [String] = [], environment: [String: String] = [:], asProcess: Bool = false,
        _ body: (ServerProcess, Tokens, Database) async throws -> Void
    ) async throws {
        try await ExportStoreTests.withEstate { db, url in
            let store = TokenStore(db)
            let tokens = Tokens(
                viewer: try await store.create(name: "dash", role: .viewer, by: "test"),
                editor: try await store.create(name: "pipeline", role: .editor, by: "test"),
                admin: try await store.create(name: "root", role: .admin, by: "test"))
            let server = try await ServerProcess(databaseURL: url, extra: extra, environment: environment, asProcess: asProcess)
            do {
                try await body(server, tokens, db)
            } catch {
                _ = await server.stop()
                throw error
            }
            let status = await server.stop()
            #expect(status == 0, "the server exits 0 on SIGTERM: \(server.log)")
        }
    }

    /// A concrete path for a route, with its parameters filled in.
    static func concrete(_ path: String) -> String {
        path.replacingOccurrences(of: "{kind}", with: "models").replacingOccurrences(of: "{key}", with: "acme-support-ft")
            .replacingOccurrences(of: "{id}", with: "SLP-HITL").replacingOccurrences(of: "{subject}", with: "credential:payments-api-key")
            .replacingOccurrences(of: "{format}", with: "csv").replacingOccurrences(of: "{name}", with: "nobody")
    }

    @Test("every route answers 401 without a token, 403 to a role below its own, and serves the roles at or above it")
    func routesByRole() async throws {
        try await Self.withServer { server, tokens, _ in
            for route in APIRoute.all {
                let path = Self.concrete(route.path), method = route.method.rawValue
                // Bodies that are refused keep this test from changing anything: it is about access only.
                let body = method == "GET" || method == "DELETE" ? nil : Data("{\"not\": \"valid\"}".utf8)
                guard let required = route.role else {
                    let open = try await server.call(method, path)
                    #expect(open.status == 200, "\(method) \(route.path) is open: \(open.body)")
                    continue
                }
                let none = try await server.call(method, path, body: body)
                #expect(none.status == 401, "\(method) \(route.path) without a token")
                #expect(none.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                let bad = try await server.call(method, path, token: "slp_000000000000_" + String(repeating: "A", count: 43), body: body)
                #expect(bad.status == 401, "\(method) \(route.path) with an unknown token")
                for (role, token) in [(AccessRole.viewer, tokens.viewer), (.editor, tokens.editor), (.admin, tokens.admin)] {
                    let reply = try await server.call(method, path, token: token, body: body)
                    if role.allows(required) {
                        #expect(![401, 403, 500].contains(reply.status), "\(method) \(route.path) as \(role): \(reply.status) \(reply.body)")
                    } else {
                        #expect(reply.status == 403, "\(method) \(route.path) as \(role) must be refused")
                        #expect(reply.body.contains("\"code\": \"forbidden\""))
                    }
                }
            }
        }
    }

    @Test("the OpenAPI document and the routes agree, and /openapi.yaml serves the document")
    func contractAgrees() async throws {
        let file = Fixtures.packageRoot.appending(path: "Sources/SleeperServer/openapi.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let doc = try DocumentLoader.load(Data(text.utf8), file: "openapi.yaml")
        guard case .object(let root) = doc, case .object(let paths)? = root["paths"], case .string(let version)? = root["openapi"] else {
            Issue.record("openapi.yaml has no paths"); return
        }
        #expect(version.hasPrefix("3.1"))
        var documented: Set<String> = []
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, op) in operations {
                guard case .object(let fields) = op, case .string(let role)? = fields["x-sleeper-role"] else {
                    Issue.record("\(method) \(path) has no x-sleeper-role"); continue
                }
                documented.insert("\(method.uppercased()) \(path) \(role)")
            }
        }
        let routed = Set(APIRoute.all.map { "\($0.method.rawValue) \($0.path) \($0.role?.rawValue ?? "none")" })
        #expect(documented == routed, "only documented: \(documented.subtracting(routed).sorted()); only routed: \(routed.subtracting(documented).sorted())")
        #expect(SleeperService.contract == text)

        // And the document is valid OpenAPI 3.1 (openapi-spec-validator, installed by scripts/test).
        let (ok, report) = try await Fixtures.python("validate-openapi", [file.path])
        #expect(ok, "\(report)")
        #expect(report.contains("valid OpenAPI 3.1"))
    }

    @Test("imports are validated whole: bad JSON, wrong shapes, secrets and oversize bodies are refused with locations and write nothing")
    func importValidation() async throws {
        try await Self.withServer(extra: ["--max-body-mb", "1"]) { server, tokens, db in
            let before = try await db.count("SELECT count(*) FROM models")
            let audits = try await db.count("SELECT count(*) FROM audit_log")

            let malformed = try await server.call("POST", "/v1/inventory/import", token: tokens.editor, body: Data("{\"models\": [{\"key\": \"m1\",}".utf8))
            #expect(malformed.status == 400)
            let error = try #require((malformed.json as? [String: Any])?["error"] as? [String: Any])
            let details = try #require(error["details"] as? [[String: Any]])
            #expect((details.first?["location"] as? String)?.hasPrefix("body") == true, "\(malformed.body)")

            let shape = try await server.call(
                "POST", "/v1/inventory/import", token: tokens.editor,
                body: Data("{\"resources\": [{\"key\": \"r9\", \"tier\": 9}], \"agents\": [{\"key\": \"a9\", \"uses_models\": [\"ghost\"]}]}".utf8))
            #expect(shape.status == 400)
            #expect(shape.body.contains("resources[0].tier"))
            #expect(shape.body.contains("ghost"))

            let secret = try await server.call(
                "POST", "/v1/inventory/import", token: tokens.editor,
                body: Data("{\"credentials\": [{\"key\": \"k9\", \"kind\": \"api_key\", \"fingerprint\": \"ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A\"}]}".utf8))
            #expect(secret.status == 400)
            #expect(secret.body.contains("credentials[0].fingerprint"))
            #expect(!secret.body.contains("ghp_"), "a refused secret is never echoed")

            let big = try await server.call("POST", "/v1/inventory/import", token: tokens.editor, body: Data(repeating: 0x20, count: 2 << 20))
            #expect(big.status == 413)
            #expect(big.body.contains("\"code\": \"body_too_large\""))

            let wrongMethod = try await server.call("PUT", "/v1/evidence", token: tokens.editor, body: Data("{}".utf8))
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["allow"] == "GET, POST")
            #expect(try await server.call("GET", "/v1/nowhere", token: tokens.viewer).status == 404)

            let page = try await server.call("GET", "/v1/inventory/models?limit=5000", token: tokens.viewer)
            #expect(page.status == 400, "page size is capped")
            #expect(try await db.count("SELECT count(*) FROM models") == before)
            #expect(try await db.count("SELECT count(*) FROM audit_log") == audits, "nothing refused reaches the audit log")
        }
    }

    @Test("an editor imports and records evidence; lists page; the audit log names the token; a revoked token stops working")
    func writesAndAudit() async throws {
        try await Self.withServer { server, tokens, db in
            let inventory = """
                models: [{key: api-model, supplier: acme-ai, third_party: true, digest: "sha256:abcd"}]
                agents: [{key: api-agent, input_trust: untrusted, uses_models: [api-model], holds: [{credential: api-key, delivery: runtime_env}]}]
                credentials: [{key: api-key, kind: api_key, owner: team, grants: [{resource: payments-api, action: write}]}]
                """
            let dry = try await server.call("POST", "/v1/inventory/import?dry_run=true", token: tokens.editor, body: Data(inventory.utf8), contentType: "application/yaml")
            #expect(dry.status == 200)
            #expect(try await db.count("SELECT count(*) FROM models WHERE key = 'api-model'") == 0)
            let imported = try await server.call("POST", "/v1/inventory/import", token: tokens.editor, body: Data(inventory.utf8), contentType: "application/yaml")
            #expect(imported.status == 201, "\(imported.body)")
            #expect(try await db.count("SELECT count(*) FROM models WHERE key = 'api-model'") == 1)

            let one = try await server.call("GET", "/v1/inventory/models/api-model", token: tokens.viewer)
            #expect(one.status == 200)
            #expect((one.json as? [String: Any])?["supplier"] as? String == "acme-ai")
            #expect(try await server.call("GET", "/v1/inventory/models/none", token: tokens.viewer).status == 404)

            let total = try await db.count("SELECT count(*) FROM models")
            var seen: [String] = [], offset = 0
            while true {
                let page = try #require(try await server.call("GET", "/v1/inventory/models?limit=4&offset=\(offset)", token: tokens.viewer).json as? [String: Any])
                seen += (page["items"] as! [[String: Any]]).map { $0["key"] as! String }
                guard let next = page["next_offset"] as? Int else { break }
                offset = next
            }
            #expect(seen.count == total)
            #expect(seen == seen.sorted())

            let sha = String(repeating: "ab", count: 32)
            let evidence =
                "{\"subject\": \"model:api-model\", \"control\": \"SLP-BACKDOOR-SCAN\", \"result\": \"pass\", \"artifacts\": [{\"name\": \"scan.txt\", \"sha256\": \"\(sha)\", \"size\": 12}]}"
            let recorded = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: Data(evidence.utf8))
            #expect(recorded.status == 201, "\(recorded.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_key = 'api-model' AND artifacts::text LIKE '%\(sha)%' AND recorded_by = 'pipeline'") == 1)
            let withPath = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data("{\"subject\": \"model:api-model\", \"control\": \"SLP-BACKDOOR-SCAN\", \"result\": \"pass\", \"artifacts\": [\"/etc/passwd\"]}".utf8))
            #expect(withPath.status == 400)
            #expect(withPath.body.contains("artifacts[0]"))
            let unknown = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data("[{\"subject\": \"model:ghost\", \"control\": \"SLP-BACKDOOR-SCAN\", \"result\": \"pass\"}]".utf8))
            #expect(unknown.status == 400)
            #expect(unknown.body.contains("body: [0].subject") || unknown.body.contains("[0].subject"), "\(unknown.body)")

            let scored = try await server.call("POST", "/v1/scores", token: tokens.editor)
            #expect(scored.status == 201)
            let top = try #require(try await server.call("GET", "/v1/exposures?limit=1", token: tokens.viewer).json as? [String: Any])
            #expect((top["items"] as! [[String: Any]]).count == 1)
            #expect(top["next_offset"] as? Int == 1)
            let explain = try #require(try await server.call("GET", "/v1/explain/credential:api-key", token: tokens.viewer).json as? [String: Any])
            for field in ["subject", "score", "band", "p", "impact", "hygiene", "factors", "paths", "what_if"] { #expect(explain[field] != nil, "\(field)") }

            let audit = try #require(try await server.call("GET", "/v1/audit", token: tokens.admin).json as? [String: Any])
            let entries = (audit["items"] as! [[String: Any]]).map { "\($0["actor"]!) \($0["action"]!)" }
            #expect(entries.contains("token:pipeline inventory.import"))
            #expect(entries.contains("token:pipeline evidence.record"))
            #expect(entries.contains("token:pipeline score.run"))
            #expect(
                !entries.contains("token:pipeline inventory.import") || entries.filter { $0 == "token:pipeline inventory.import" }.count == 1,
                "the dry run is not audited")

            let created = try #require(try await server.call("POST", "/v1/tokens", token: tokens.admin, body: Data("{\"name\": \"temp\", \"role\": \"viewer\"}".utf8)).json as? [String: Any])
            let temp = try #require(created["token"] as? String)
            #expect(try await server.call("GET", "/v1/frameworks", token: temp).status == 200)
            #expect(try await server.call("DELETE", "/v1/tokens/temp?reason=no%20longer%20needed", token: tokens.admin).status == 204)
            #expect(try await server.call("GET", "/v1/frameworks", token: temp).status == 401)
            #expect(try await db.count("SELECT count(*) FROM api_tokens WHERE token_hash = '\(APIToken.hash(temp))' AND name = 'temp'") == 1)
            #expect(try await db.count("SELECT count(*) FROM api_tokens WHERE token_hash LIKE '%\(temp)%' OR lookup = '\(temp)'") == 0, "only the hash is stored")
        }
    }

    @Test("health, readiness and metrics: request counts and latency by route and status, pool, last scoring run")
    func observability() async throws {
        // A process of its own: metrics are the process's (services run in the test process share one registry).
        try await Self.withServer(asProcess: true) { server, tokens, _ in
            #expect(try await server.call("GET", "/healthz").body.contains("\"ok\""))
            #expect(try await server.call("GET", "/readyz").status == 200)
            _ = try await server.call("GET", "/v1/exposures?limit=3", token: tokens.viewer)
            _ = try await server.call("GET", "/v1/exposures?limit=3")
            let metrics = try await server.call("GET", "/metrics").body
            #expect(metrics.contains("sleeper_http_requests_total{route=\"/v1/exposures\",method=\"GET\",status=\"200\"} 1"))
            #expect(metrics.contains("sleeper_http_requests_total{route=\"/v1/exposures\",method=\"GET\",status=\"401\"} 1"))
            #expect(metrics.contains("sleeper_http_request_duration_seconds_bucket{route=\"/v1/exposures\",method=\"GET\",status=\"200\",le="))
            #expect(metrics.contains("sleeper_db_pool_max_connections 8"))
            #expect(metrics.contains("sleeper_db_pool_open_connections "))
            #expect(metrics.contains("sleeper_last_scoring_run_duration_seconds "))
            #expect(metrics.contains("sleeper_db_up 1"))
        }
    }

    @Test("SIGTERM lets a request in flight finish, then the server exits 0")
    func gracefulShutdown() async throws {
        try await Self.withServer(asProcess: true) { server, tokens, db in
            // A request whose body is still arriving when SIGTERM lands: half is sent, then the
            // signal, then the rest. It must complete and be written.
            let body = Data("{\"resources\": [{\"key\": \"late-resource\", \"tier\": 2}]}".utf8)
            let head =
                "POST /v1/inventory/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(tokens.editor)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let socket = try RawSocket(port: server.port)
            try socket.send(Data(head.utf8) + body.prefix(10))
            try await Task.sleep(for: .milliseconds(300))
            server.process.signal(SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.process.isRunning, "the server waits for the request in flight")
            try socket.send(body.dropFirst(10))
            let reply = socket.receiveAll()
            #expect(reply.hasPrefix("HTTP/1.1 201"), "\(reply)")
            #expect(try await db.count("SELECT count(*) FROM resources WHERE key = 'late-resource'") == 1)
        }
    }
}

/// A plain TCP connection, so a test can hold a request half-sent.
final class RawSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ServerProcess.ServerError(message: "connect failed: \(errno)") }
    }

    func send(_ data: Data) throws {
        let sent = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, data.count, 0) }
        guard sent == data.count else { throw ServerProcess.ServerError(message: "send failed: \(errno)") }
    }

    func receiveAll() -> String {
        var out = Data(), buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    deinit { close(fd) }
}
