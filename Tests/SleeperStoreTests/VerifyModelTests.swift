import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper verify-model` end to end: a genuine signature becomes SLP-SIGNATURE evidence bound to
/// the model's digest; a signature over other bytes is refused; tampered files are a failed check.
@Suite("Verifying model signatures", .timeLimit(.minutes(8)))
struct VerifyModelTests {
    static let folder = Fixtures.packageRoot.appending(path: "Tests/Fixtures/model-signing")

    /// Models with these SHA-256 digests, imported with `sleeper import`.
    static func importModels(_ digests: [String: String], url: String) async throws {
        let models = try ExportStoreTests.scratch().appending(path: "models.yaml")
        let rows = digests.keys.sorted().map { "  - {key: \($0), supplier: acme, third_party: false, digest: \"sha256:\(digests[$0] ?? "")\"}" }
        try Data((["models:"] + rows).joined(separator: "\n").utf8).write(to: models)
        #expect(try await Fixtures.sleeper(["import", models.path, "--database-url", url], environment: TestClock.environment()).status == 0)
    }

    @Test("verified over the v1.1.0 vector and recorded, bound to the digest; another model's digest refused; tampered files recorded as a failed check")
    func verifyAndRecord() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            try await Self.importModels(
                [
                    "signed-model": "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4",
                    "other-model": String(repeating: "f", count: 64),
                ], url: url)
            let key = Self.folder.appending(path: "signing-key-pub.pem").path
            let genuine = Self.folder.appending(path: "v1.1.0-elliptic-key").path

            // A valid signature by a signer nobody declared proves only that someone signed: nothing is recorded.
            let undeclared = try await Fixtures.sleeper(["verify-model", genuine, "--public-key", key, "--subject", "model:signed-model", "--database-url", url], environment: now)
            #expect(undeclared.status == 1 && undeclared.stderr.contains("no signer is declared for model:signed-model or its supplier, so nothing was recorded"), "\(undeclared.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)
            let ok = try await Fixtures.sleeper(["verify-model", genuine, "--public-key", key, "--subject", "model:signed-model", "--trust-signer", "--database-url", url], environment: now)
            #expect(ok.status == 0, "\(ok.stderr)")
            let signer = try #require(ok.stdout.firstMatch(of: /signed by: (key sha256:[0-9a-f]{64})/).map { String($0.1) }, "\(ok.stdout)")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'signed-model' AND signer = '\(signer)'") == 1)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'signer.trust' AND target = 'model:signed-model'") == 1)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE result = 'pass' AND note LIKE '%signed by \(signer), a declared signer%'") == 1)
            #expect(ok.stdout.contains("verified (ECDSA P-384), 2 file(s)"), "\(ok.stdout)")
            #expect(ok.stdout.contains("SLP-SIGNATURE pass for model:signed-model"), "\(ok.stdout)")
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE control_id = 'SLP-SIGNATURE' AND result = 'pass'
                      AND subject_digest = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4'
                    """) == 1)

            let other = try await Fixtures.sleeper(["verify-model", genuine, "--public-key", key, "--subject", "model:other-model", "--trust-signer", "--database-url", url], environment: now)
            #expect(
                other.status == 1 && other.stderr.contains("but model 'other-model' has sha256:\(String(repeating: "f", count: 64)) in the inventory: evidence about other bytes is not bound"),
                "\(other.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 1)
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'other-model'") == 0, "no signer pinned for bytes the model does not have")

            // The same files re-signed with a freshly made key: the signature is valid, the signer is not the one declared.
            let forged = try ExportStoreTests.scratch()
            try FileManager.default.copyItem(atPath: genuine, toPath: forged.appending(path: "model").path)
            let resign = try await Fixtures.python(code: Self.resign, [genuine, forged.path])
            try #require(resign.ok, "\(resign.output)")
            let attacker = try await Fixtures.sleeper(
                [
                    "verify-model", forged.appending(path: "model").path, "--public-key", forged.appending(path: "attacker-pub.pem").path,
                    "--subject", "model:signed-model", "--trust-signer", "--database-url", url,
                ], environment: now)
            #expect(attacker.status == 1, "\(attacker.stdout) \(attacker.stderr)")
            #expect(attacker.stdout.contains("verified (ECDSA P-384), 2 file(s)"), "the signature itself is valid: \(attacker.stdout)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE result = 'fail' AND note LIKE '%, expected \(signer)%'") == 1, "a fail naming both signers")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers") == 1, "--trust-signer pins only when no signer is declared")

            let unverified = try await Fixtures.sleeper(["verify-model", genuine, "--subject", "model:signed-model", "--database-url", url], environment: now)
            #expect(unverified.status == 1 && unverified.stderr.contains("signature present, not verified"), "\(unverified.stderr)")

            let tampered = try ExportStoreTests.scratch().appending(path: "model")
            try FileManager.default.copyItem(atPath: genuine, toPath: tampered.path)
            try Data("weights, changed".utf8).write(to: tampered.appending(path: "signme-2"))
            let bad = try await Fixtures.sleeper(["verify-model", tampered.path, "--public-key", key, "--subject", "model:signed-model", "--database-url", url], environment: now)
            #expect(bad.status == 1)
            #expect(bad.stdout.contains("changed: signme-2"), "\(bad.stdout)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-SIGNATURE' AND result = 'fail'") == 2)
        }
    }

    /// Re-signs `argv[1]/model.sig`'s statement with a new P-384 key (openssl), into `argv[2]/model/model.sig`,
    /// the public key into `argv[2]/attacker-pub.pem`.
    static let resign = """
        import base64, json, os, subprocess, sys
        src, dst = sys.argv[1], sys.argv[2]
        d = json.load(open(os.path.join(src, "model.sig")))
        env = d["dsseEnvelope"]
        body, kind = base64.b64decode(env["payload"]), env["payloadType"].encode()
        open(os.path.join(dst, "pae.bin"), "wb").write(b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body))
        key = os.path.join(dst, "attacker.key")
        subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-out", os.path.join(dst, "attacker-pub.pem")], check=True, capture_output=True)
        sig = subprocess.run(["openssl", "dgst", "-sha384", "-sign", key, os.path.join(dst, "pae.bin")], check=True, capture_output=True).stdout
        env["signatures"][0]["sig"] = base64.b64encode(sig).decode()
        json.dump(d, open(os.path.join(dst, "model", "model.sig"), "w"))
        """

    @Test("a keyless (Sigstore) bundle: verified offline against the trusted root and the named signer, recorded; another signer recorded as a failed check; without a root nothing is recorded")
    func keyless() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            try await Self.importModels(["sigstore-model": "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226"], url: url)
            let dir = Self.folder.appending(path: "v1.1.0-sigstore").path
            let root = Self.folder.appending(path: "trusted_root.json").path
            let common = ["verify-model", dir, "--ignore-paths", "ignore-me", "--subject", "model:sigstore-model", "--database-url", url]

            let none = try await Fixtures.sleeper(common, environment: now)
            #expect(none.status == 1 && none.stderr.contains("signed keylessly (Sigstore); give --trusted-root"), "\(none.stderr)")
            let unnamed = try await Fixtures.sleeper(common + ["--trusted-root", root], environment: now)
            #expect(unnamed.status == 1 && unnamed.stderr.contains("--trusted-root needs --identity and --identity-provider"), "\(unnamed.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)

            let ok = try await Fixtures.sleeper(
                common + [
                    "--trusted-root", root, "--identity", "stefanb@us.ibm.com",
                    "--identity-provider", "https://sigstore.verify.ibm.com/oauth2", "--trust-signer",
                ], environment: now)
            #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
            #expect(ok.stdout.contains("verified (ECDSA P-256, Sigstore keyless: stefanb@us.ibm.com via https://sigstore.verify.ibm.com/oauth2, logged at index 598151086"), "\(ok.stdout)")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE signer = 'keyless stefanb@us.ibm.com via https://sigstore.verify.ibm.com/oauth2'") == 1)
            let other = try await Fixtures.sleeper(
                common + [
                    "--trusted-root", root, "--identity", "release@acme.example",
                    "--identity-provider", "https://sigstore.verify.ibm.com/oauth2",
                ], environment: now)
            #expect(other.status == 1 && other.stdout.contains("issued to stefanb@us.ibm.com, not release@acme.example"), "\(other.stdout)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-SIGNATURE' AND result = 'pass'") == 1)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-SIGNATURE' AND result = 'fail'") == 1)
        }
    }

    @Test(
        "signers declared in a hand-written file: imported (audited), then trusted by verify-model; the next import of the entry replaces them, an entry that does not say keeps them, a declaration made by command stays; a signer in another form refused by name"
    )
    func signersInInventory() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: now) }
            let key = Self.folder.appending(path: "signing-key-pub.pem").path
            let genuine = Self.folder.appending(path: "v1.1.0-elliptic-key").path
            let printed = try await Fixtures.sleeper(["verify-model", genuine, "--public-key", key], environment: now)
            let signer = try #require(printed.stdout.firstMatch(of: /signed by: (key sha256:[0-9a-f]{64})/).map { String($0.1) }, "\(printed.stdout)")
            let other = "key sha256:" + String(repeating: "b", count: 64)
            let dir = try ExportStoreTests.scratch()
            func file(_ signers: String?) throws -> String {
                let url = dir.appending(path: "models.yaml")
                let extra = signers.map { ", signers: \($0)" } ?? ""
                try Data("models:\n  - {key: signed-model, supplier: acme, third_party: false, digest: \"sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4\"\(extra)}\n".utf8)
                    .write(to: url)
                return url.path
            }
            let first = try await sleeper(["import", try file("[\"\(signer)\"]")])
            #expect(first.status == 0 && first.stdout.contains("signers of model:signed-model: \(signer)"), "\(first.stdout) \(first.stderr)")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'signed-model' AND signer = '\(signer)' AND declared_by LIKE 'inventory %models.yaml'") == 1)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'inventory.import' AND detail->>'signers' LIKE 'model:signed-model: key sha256:%'") == 1)
            let ok = try await sleeper(["verify-model", genuine, "--public-key", key, "--subject", "model:signed-model"])
            #expect(ok.status == 0 && ok.stdout.contains("SLP-SIGNATURE pass for model:signed-model"), "the file's signer is trusted: \(ok.stdout) \(ok.stderr)")

            #expect(try await sleeper(["signers", "trust", "--model", "signed-model", "--signer", other, "--by", "ml-security"]).status == 0)
            #expect(try await sleeper(["import", try file(nil)]).status == 0)
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'signed-model'") == 2, "an entry that does not say keeps its signers")
            let replaced = try await sleeper(["import", try file("[]")])
            #expect(replaced.status == 0 && replaced.stdout.contains("signers of model:signed-model: none declared in the file"), "\(replaced.stdout)")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'signed-model'") == 1, "the file's own declaration is gone")
            #expect(try await db.count("SELECT count(*) FROM trusted_signers WHERE model_key = 'signed-model' AND signer = '\(other)' AND declared_by = 'ml-security'") == 1)

            let wrong = try await sleeper(["import", try file("[\"sha256:\(String(repeating: "c", count: 64))\"]")])
            #expect(wrong.status != 0 && wrong.stderr.contains("signers[0]") && wrong.stderr.contains("is not a signer as `sleeper verify-model` prints it"), "\(wrong.stderr)")
            let byCommand = try await sleeper(["signers", "trust", "--model", "signed-model", "--signer", "key sha256:ABC", "--by", "me"])
            #expect(byCommand.status != 0 && byCommand.stderr.contains("64 lowercase hex digits"), "\(byCommand.stderr)")
        }
    }

    @Test("over HTTP: an admin declares a signer for a model (201, audited), a viewer lists it and may not declare; unknown fields and a missing target are refused by name")
    func signersOverHTTP() async throws {
        try await ServerTests.withServer { server, tokens, db in
            let body = Data(#"{"model": "acme-support-ft", "signer": "key sha256:\#(String(repeating: "a", count: 64))", "by": "ml-security"}"#.utf8)
            #expect(try await server.call("POST", "/v1/signers", token: tokens.viewer, body: body).status == 403)
            let made = try await server.call("POST", "/v1/signers", token: tokens.admin, body: body)
            #expect(made.status == 201, "\(made.body)")
            let listed = try await server.call("GET", "/v1/signers", token: tokens.viewer)
            #expect(listed.status == 200 && listed.body.contains("key sha256:aaaa") && listed.body.contains("acme-support-ft"), "\(listed.body)")
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'signer.trust' AND target = 'model:acme-support-ft'") == 1)
            let typo = try await server.call("POST", "/v1/signers", token: tokens.admin, body: Data(#"{"model": "acme-support-ft", "signr": "x", "by": "me"}"#.utf8))
            #expect(typo.status == 400 && typo.body.contains("did you mean 'signer'"), "\(typo.body)")
            let neither = try await server.call("POST", "/v1/signers", token: tokens.admin, body: Data(#"{"signer": "x", "by": "me"}"#.utf8))
            #expect(neither.status == 400 && neither.body.contains("give model or supplier"), "\(neither.body)")
        }
    }
}
