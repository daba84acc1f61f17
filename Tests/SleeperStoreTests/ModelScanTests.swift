import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper scan model` and `POST /v1/scans?kind=model` end to end, on model directories Python's
/// own pickle and zipfile write here (the malicious pickle only names `posix.system`; nothing
/// ever loads it): findings, the digest, evidence bound to it, and bad files.
@Suite("Sleeper's model scan", .timeLimit(.minutes(8)))
struct ModelScanTests {
    /// A model directory: a PyTorch zip (malicious: deflated, its state dict holds an object that
    /// would call os.system when loaded; benign: stored, an OrderedDict), a safetensors file and a config.
    static let builder = """
        import collections, json, os, pickle, struct, sys, zipfile
        d, kind = sys.argv[1], sys.argv[2]
        class Payload:
            def __reduce__(self):
                return (os.system, ("echo pwned",))
        os.makedirs(d, exist_ok=True)
        method = zipfile.ZIP_DEFLATED if kind == "malicious" else zipfile.ZIP_STORED
        obj = {"w": Payload()} if kind == "malicious" else collections.OrderedDict(w=1)
        with zipfile.ZipFile(d + "/pytorch_model.bin", "w", method) as z:
            z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
            z.writestr("archive/data/0", b"\\0" * 64)
            z.writestr("archive/version", "3\\n")
            if kind == "bomb":
                z.writestr("archive/extra.pkl", b"\\0" * (50 << 20), compress_type=zipfile.ZIP_DEFLATED)
        header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
        header += b" " * (-len(header) % 8)
        open(d + "/model.safetensors", "wb").write(struct.pack("<Q", len(header)) + header + b"\\0" * 8)
        open(d + "/config.json", "w").write('{"architectures": ["Llama"]}')
        """

    /// Scans run three days before the tests' "now": the ledger refuses checks dated after its own (real) clock.
    static let scanEnvironment = TestClock.environment(TestClock.now.addingTimeInterval(-3 * TestClock.day))

    static func model(_ kind: String, in dir: URL) async throws -> URL {
        let path = dir.appending(path: "model-\(kind)")
        let made = try await Fixtures.python(code: builder, [path.path, kind])
        #expect(made.ok, "\(made.output)")
        return path
    }

    static func digest(_ dir: URL) throws -> String {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            files[name] = Artifact.of(name: name, data: try Data(contentsOf: dir.appending(path: name))).sha256
        }
        return ModelDigest.of(files: files)
    }

    static func inventory(_ dir: URL, digest: String) throws -> URL {
        let file = dir.appending(path: "inventory.yaml")
        try Data(
            """
            resources: [{key: vault, tier: 0}]
            models: [{key: m, supplier: internal, third_party: false, digest: "\(digest)", signed: true, serialization: pytorch, lineage_verified: true, training_data_declared: true}]
            agents: [{key: helper, input_trust: untrusted, uses_models: [m], holds: [{credential: helper-key, delivery: runtime_env}]}]
            credentials: [{key: helper-key, kind: api_key, owner: platform, grants: [{resource: vault, action: admin}]}]
            """.utf8
        ).write(to: file)
        return file
    }

    @Test("a malicious checkpoint: the deflated pickle inside the archive is walked and posix.system named with its entry and offset; exit 3. A benign one passes with the OpenSSF digest")
    func findings() async throws {
        let dir = try ExportStoreTests.scratch()
        let bad = try await Self.model("malicious", in: dir), good = try await Self.model("benign", in: dir)
        let run = try await Fixtures.sleeper(["scan", "model", bad.path], environment: TestClock.environment())
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout.contains("pytorch_model.bin  pytorch-zip"), "\(run.stdout)")
        #expect(run.stdout.contains("dangerous  archive/data.pkl @"), "\(run.stdout)")
        #expect(run.stdout.contains("posix.system: GLOBAL imports a callable that runs code"), "\(run.stdout)")
        #expect(run.stdout.contains("result: fail (SLP-SERIALIZATION-SCAN)"))
        let clean = try await Fixtures.sleeper(["scan", "model", good.path, "--format", "json"], environment: TestClock.environment())
        #expect(clean.status == 0, "\(clean.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any])
        #expect(json["sleeper_scan"] as? String == "model")
        #expect(json["digest"] as? String == (try Self.digest(good)))
        #expect(json["scanned_at"] as? String == Timestamps.format(TestClock.now), "the scan's time is the one clock's")
        let formats = ((json["files"] as? [[String: Any]]) ?? []).map { "\($0["path"] ?? "") \($0["format"] ?? "")" }
        #expect(formats == ["config.json unknown", "model.safetensors safetensors", "pytorch_model.bin pytorch-zip"])
    }

    @Test(
        "recorded as SLP-SERIALIZATION-SCAN bound to the scan's digest; other bytes than the inventory's are refused (or stale); the saved report is read back by evidence ingest, and an edited one refused"
    )
    func evidence() async throws {
        let env = Self.scanEnvironment
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let good = try await Self.model("benign", in: dir)
            let digest = try Self.digest(good)
            #expect(try await Fixtures.sleeper(["import", try Self.inventory(dir, digest: digest).path, "--database-url", url], environment: env).status == 0)
            let saved = dir.appending(path: "scan.json")
            let ok = try await Fixtures.sleeper(["scan", "model", good.path, "--subject", "model:m", "--report", saved.path, "--database-url", url], environment: env)
            #expect(ok.status == 0, "\(ok.stderr)")
            let reportSHA = Artifact.of(name: "", data: try Data(contentsOf: saved)).sha256
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE subject_key = 'm' AND control_id = 'SLP-SERIALIZATION-SCAN' AND result = 'pass'
                      AND subject_digest = '\(digest)' AND artifacts::text LIKE '%\(reportSHA)%' AND artifacts::text LIKE '%model.safetensors%'
                      AND recorded_by = 'sleeper scan model' AND note LIKE '%computed by the scan of 3 file(s)%'
                    """) == 1)
            // The saved report, read back as any scanner's: the files at its target are hashed again and match.
            let again = try await Fixtures.sleeper(["evidence", "ingest", saved.path, "--subject", "model:m", "--database-url", url], environment: env)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("sleeper scan model \(SleeperVersion.current): 3 file(s) scanned"), "\(again.stdout)")
            let text = String(decoding: try Data(contentsOf: saved), as: UTF8.self)
            let forged = dir.appending(path: "forged.json")
            try Data(text.replacingOccurrences(of: digest, with: "sha256:" + String(repeating: "ab", count: 32)).utf8).write(to: forged)
            let edited = try await Fixtures.sleeper(["evidence", "ingest", forged.path, "--subject", "model:m", "--database-url", url], environment: env)
            #expect(edited.status == 1)
            #expect(edited.stderr.contains("the report was changed after the scan"), "\(edited.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 2)
            try Data("changed after the inventory".utf8).write(to: good.appending(path: "config.json"))
            let refused = try await Fixtures.sleeper(["scan", "model", good.path, "--subject", "model:m", "--database-url", url], environment: env)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("but model 'm' has \(digest) in the inventory"), "\(refused.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 2)
            let stale = try await Fixtures.sleeper(["scan", "model", good.path, "--subject", "model:m", "--record-stale", "--database-url", url], environment: env)
            #expect(stale.status == 0, "\(stale.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_digest = '\(try Self.digest(good))'") == 1)
            #expect(try await db.count("SELECT count(*) FROM evidence") == 3)
        }
    }

    @Test("bad files: a zip bomb and a truncated archive fail with what is wrong; a directory of no model file and a missing path write nothing")
    func badFiles() async throws {
        let env = TestClock.environment()
        let dir = try ExportStoreTests.scratch()
        let bomb = try await Self.model("bomb", in: dir)
        let b = try await Fixtures.sleeper(["scan", "model", bomb.appending(path: "pytorch_model.bin").path], environment: env)
        #expect(b.status == 3 && b.stdout.contains("refused as a zip bomb"), "\(b.stdout) \(b.stderr)")
        let good = try await Self.model("benign", in: dir)
        let whole = try Data(contentsOf: good.appending(path: "pytorch_model.bin"))
        let cut = dir.appending(path: "cut.pt")
        try whole.prefix(whole.count - 40).write(to: cut)
        let c = try await Fixtures.sleeper(["scan", "model", cut.path], environment: env)
        #expect(c.status == 3 && c.stdout.contains("malformed  zip: "), "\(c.stdout) \(c.stderr)")
        let docs = dir.appending(path: "docs")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try Data("# A model card".utf8).write(to: docs.appending(path: "README.md"))
        let none = try await Fixtures.sleeper(["scan", "model", docs.path], environment: env)
        #expect(none.status == 1 && none.stderr.contains("holds no model file Sleeper reads (README.md)"), "\(none.stderr)")
        let missing = try await Fixtures.sleeper(["scan", "model", dir.appending(path: "nowhere").path], environment: env)
        #expect(missing.status == 1 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
    }

    @Test(
        "POST /v1/scans: an uploaded pickle is scanned (200, not recorded without subject); with a subject it is recorded, or refused for other bytes; paths only under --scan-root; viewers may not scan"
    )
    func overHTTP() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let good = try await Self.model("benign", in: dir)
            let file = good.appending(path: "pytorch_model.bin")
            let bytes = try Data(contentsOf: file)
            let single = "sha256:" + Artifact.of(name: "", data: bytes).sha256
            #expect(try await Fixtures.sleeper(["import", try Self.inventory(dir, digest: single).path, "--database-url", url], environment: TestClock.environment()).status == 0)
            let store = TokenStore(db)
            let editor = try await store.create(name: "pipeline", role: .editor, by: "test")
            let viewer = try await store.create(name: "dash", role: .viewer, by: "test")
            let server = try await ServerProcess(databaseURL: url, extra: ["--scan-root", good.path], environment: Self.scanEnvironment)
            defer { server.terminate() }

            let malicious = ModelFileScanTestsBytes.malicious
            let plain = try await server.call("POST", "/v1/scans?kind=model&name=evil.pkl", token: editor, body: Data(malicious), contentType: "application/octet-stream")
            #expect(plain.status == 200, "\(plain.body)")
            let answer = try #require(plain.json as? [String: Any])
            #expect(answer["result"] as? String == "fail")
            let report = try #require(answer["report"] as? [String: Any])
            let findings = ((report["files"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]]) ?? []
            #expect(findings.map { "\($0["what"] ?? "") \($0["offset"] ?? "")" } == ["posix.system 2"])
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)

            let recorded = try await server.call("POST", "/v1/scans?kind=model&name=pytorch_model.bin&subject=model:m", token: editor, body: bytes, contentType: "application/octet-stream")
            #expect(recorded.status == 201, "\(recorded.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-SERIALIZATION-SCAN' AND result = 'pass' AND subject_digest = '\(single)'") == 1)
            let other = try await server.call("POST", "/v1/scans?kind=model&subject=model:m", token: editor, body: Data(malicious), contentType: "application/octet-stream")
            #expect(other.status == 400 && other.body.contains("evidence about other bytes is not bound"), "\(other.body)")

            let byPath = try await server.call("POST", "/v1/scans?kind=model&path=\(good.path)", token: editor)
            #expect(byPath.status == 200 && byPath.body.contains("\"pass\""), "\(byPath.body)")
            let outside = try await server.call("POST", "/v1/scans?kind=model&path=\(dir.path)", token: editor)
            #expect(outside.status == 403 && outside.body.contains("path_not_allowed"), "\(outside.body)")
            let escape = try await server.call("POST", "/v1/scans?kind=model&path=\(good.path)/..", token: editor)
            #expect(escape.status == 403, "\(escape.body)")
            let forbidden = try await server.call("POST", "/v1/scans?kind=model", token: viewer, body: Data(malicious), contentType: "application/octet-stream")
            #expect(forbidden.status == 403)
            #expect(try await db.count("SELECT count(*) FROM evidence") == 1)
        }
    }

    @Test("--scan-root without races: a link flipping between a file inside and one outside never gets the outside file read; a FIFO is refused at once")
    func scanRootRaces() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let root = dir.appending(path: "root"), outsideDir = dir.appending(path: "outside")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: outsideDir, withIntermediateDirectories: true)
            let inside = root.appending(path: "inside.pkl"), outside = outsideDir.appending(path: "secret.pkl")
            try Data([0x80, 0x02, 0x4E, 0x2E]).write(to: inside)
            let secretBytes = Data([0x80, 0x02, 0x4B, 0x07, 0x2E])
            try secretBytes.write(to: outside)
            let secretDigest = Artifact.of(name: "", data: secretBytes).sha256
            let editor = try await TokenStore(db).create(name: "pipeline", role: .editor, by: "test")
            let server = try await ServerProcess(databaseURL: url, extra: ["--scan-root", root.path], environment: Self.scanEnvironment)
            defer { server.terminate() }

            // A FIFO under the root: refused without waiting for a writer.
            let fifo = root.appending(path: "pipe.pkl")
            try #require(mkfifo(fifo.path, 0o644) == 0)
            let started = ContinuousClock.now
            let piped = try await server.call("POST", "/v1/scans?kind=model&path=\(fifo.path)", token: editor, seconds: 30)
            #expect(piped.status == 400 && piped.body.contains("is not a regular file"), "\(piped.status) \(piped.body)")
            #expect(ContinuousClock.now - started < .seconds(10), "a FIFO held the request")

            // A link flipped between the inside file and the outside one, as fast as it goes.
            let flip = root.appending(path: "flip.pkl"), staging = root.appending(path: ".flip-staging")
            let stop = ManagedFlag()
            let flipper = Thread {
                var toOutside = false
                while !stop.isSet {
                    unlink(staging.path)
                    symlink(toOutside ? outside.path : inside.path, staging.path)
                    rename(staging.path, flip.path)
                    toOutside.toggle()
                    usleep(50)  // thousands of flips a second, without taking a core from the suite
                }
            }
            flipper.start()
            defer { stop.set() }
            var leaked = 0, answered = 0
            for _ in 0..<300 {
                let reply = try await server.call("POST", "/v1/scans?kind=model&path=\(flip.path)", token: editor)
                answered += 1
                if reply.body.contains(secretDigest) { leaked += 1 }
            }
            stop.set()
            #expect(answered == 300)
            #expect(leaked == 0, "\(leaked) of 300 answers carried the outside file's digest")
        }
    }
}

/// The malicious pickle of the per-file tests, for the API test (the store tests cannot see the core tests' types).
enum ModelFileScanTestsBytes {
    static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static let malicious: [UInt8] =
        [0x80, 0x02] + Array("cposix\nsystem\n".utf8) + [0x71, 0x00, 0x58] + le(2, 4) + Array("id".utf8)
        + [0x71, 0x01, 0x85, 0x71, 0x02, 0x52, 0x71, 0x03, 0x2E]
}
