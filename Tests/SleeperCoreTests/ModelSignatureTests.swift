import Crypto
import Foundation
import SleeperCore
import Testing
import X509

/// OpenSSF model signing bundles, checked against the project's own v1.1.0 vectors and tampered copies.
@Suite("Model signatures", .timeLimit(.minutes(2)))
struct ModelSignatureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures/model-signing")

    static func bundle(_ name: String) throws -> (ModelSigningBundle, Data) {
        let data = try Data(contentsOf: folder.appending(path: "\(name)/model.sig"))
        guard case .success(let bundle) = ModelSigningBundle.read(data, file: "model.sig") else { throw CancellationError() }
        return (bundle, data)
    }

    static func files(_ name: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for file in ["signme-1", "signme-2"] {
            out[file] = SHA256.hash(data: try Data(contentsOf: folder.appending(path: "\(name)/\(file)"))).map { String(format: "%02x", $0) }.joined()
        }
        return out
    }

    static var key: String { (try? String(contentsOf: folder.appending(path: "signing-key-pub.pem"), encoding: .utf8)) ?? "" }

    @Test("the genuine v1.1.0 vectors verify with the signer's key: signature, statement and every file", arguments: ["v1.1.0-elliptic-key", "v1.1.0-certificate"])
    func genuine(_ name: String) throws {
        let (bundle, _) = try Self.bundle(name)
        #expect(bundle.resources.map(\.name) == ["signme-1", "signme-2"])
        #expect(bundle.ignorePaths.contains("ignore-me"))
        let check = ModelSignatureCheck.check(bundle, publicKeyPEM: Self.key, files: try Self.files(name))
        #expect(check.signature == .valid(curve: "P-384"))
        #expect(check.manifestConsistent && check.verified)
        #expect(bundle.subjectDigest == bundle.manifestDigest)
    }

    @Test("tampered: a changed, missing or extra file; another key; a forged statement; no key at all")
    func tampered() throws {
        let (bundle, raw) = try Self.bundle("v1.1.0-elliptic-key")
        var files = try Self.files("v1.1.0-elliptic-key")
        files["signme-1"] = String(repeating: "0", count: 64)
        files["extra.bin"] = String(repeating: "1", count: 64)
        files["signme-2"] = nil
        let changed = ModelSignatureCheck.check(bundle, publicKeyPEM: Self.key, files: files)
        #expect(!changed.verified && changed.changed == ["signme-1"] && changed.missing == ["signme-2"] && changed.extra == ["extra.bin"])

        let other = P384.Signing.PrivateKey().publicKey.pemRepresentation
        let wrongKey = ModelSignatureCheck.check(bundle, publicKeyPEM: other, files: try Self.files("v1.1.0-elliptic-key"))
        #expect(wrongKey.signature == .invalid("the signature does not verify with this key") && !wrongKey.verified)

        // A statement rewritten to list other bytes: the signature no longer covers it.
        var text = String(decoding: raw, as: UTF8.self)
        let forgedPayload = String(decoding: bundle.payload, as: UTF8.self)
            .replacingOccurrences(of: "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc", with: String(repeating: "a", count: 64))
        text = text.replacingOccurrences(of: bundle.payload.base64EncodedString(), with: Data(forgedPayload.utf8).base64EncodedString())
        guard case .success(let forged) = ModelSigningBundle.read(Data(text.utf8), file: "model.sig") else { Issue.record("the forged bundle does not read"); return }
        let forgedCheck = ModelSignatureCheck.check(forged, publicKeyPEM: Self.key, files: try Self.files("v1.1.0-elliptic-key"))
        #expect(forgedCheck.signature == .invalid("the signature does not verify with this key"))
        #expect(!forgedCheck.manifestConsistent)

        let unverified = ModelSignatureCheck.check(bundle, publicKeyPEM: nil, files: try Self.files("v1.1.0-elliptic-key"))
        guard case .notVerified = unverified.signature else { Issue.record("no key must never read as verified"); return }
        #expect(!unverified.verified)
    }

    @Test("bad bundles are refused, located: not a bundle, a truncated file, another serialisation")
    func badBundles() {
        guard case .failure(let notBundle) = ModelSigningBundle.read(Data(#"{"mediaType": "x"}"#.utf8), file: "model.sig") else { Issue.record("accepted"); return }
        #expect(notBundle.problems.first?.description == "model.sig: dsseEnvelope: is missing: not a model signing bundle (model.sig)")
        guard case .failure(let truncated) = ModelSigningBundle.read(Data(#"{"dsseEnvelope": {"payload": "ab"#.utf8), file: "model.sig") else { Issue.record("accepted"); return }
        #expect(truncated.problems.first?.message.contains("not valid JSON") == true)
        let statement =
            #"{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "m", "digest": {"sha256": "00"}}], "predicate": {"resources": [], "serialization": {"method": "shards", "hash_type": "sha256"}}}"#
        let bundle = #"{"dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": "\#(Data(statement.utf8).base64EncodedString())", "signatures": [{"sig": "AAAA"}]}}"#
        guard case .failure(let shards) = ModelSigningBundle.read(Data(bundle.utf8), file: "model.sig") else { Issue.record("accepted"); return }
        #expect(shards.problems.map(\.description) == ["model.sig (statement): predicate.serialization.method: 'shards' is not read here (only files)"])
    }

    static func pem(_ name: String) -> String { (try? String(contentsOf: folder.appending(path: name), encoding: .utf8)) ?? "" }

    @Test("a certificate bundle verifies through its chain to the project's root CA, valid at the time asked; not to another CA, not when expired")
    func certificateChain() async throws {
        let (bundle, _) = try Self.bundle("v1.1.0-certificate")
        let files = try Self.files("v1.1.0-certificate")
        let now = try #require(Timestamps.parse("2026-11-30T12:00:00Z"))
        let genuine = await ModelSignatureCheck.check(bundle, trusting: Self.pem("ca-cert.pem"), at: now, files: files)
        #expect(genuine.verified, "\(genuine.signature)")
        guard case .valid(let how) = genuine.signature, how.hasPrefix("P-384, certificate ") else { Issue.record("\(genuine.signature)"); return }

        // Another CA: the chain leads nowhere trusted.
        let key = P384.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("another-ca") }
        let other = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86_400), notValidAfter: now.addingTimeInterval(86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(key))
        let untrusted = await ModelSignatureCheck.check(bundle, trusting: try other.serializeAsPEM().pemString, at: now, files: files)
        #expect(!untrusted.verified)
        // The project's certificates are valid for ten years from 2025-05-02: not in 2040.
        let late = try #require(Timestamps.parse("2040-01-01T00:00:00Z"))
        let expired = await ModelSignatureCheck.check(bundle, trusting: Self.pem("ca-cert.pem"), at: late, files: files)
        #expect(!expired.verified)
        // A bundle with no certificate cannot be checked this way.
        let (keyOnly, _) = try Self.bundle("v1.1.0-elliptic-key")
        let none = await ModelSignatureCheck.check(keyOnly, trusting: Self.pem("ca-cert.pem"), at: now, files: try Self.files("v1.1.0-elliptic-key"))
        #expect(none.signature == .invalid("the bundle carries no certificate; verify it with --public-key"))
    }
}

/// Keyless (Sigstore) bundles, verified offline against Sigstore's published trusted root.
@Suite("Keyless model signatures", .timeLimit(.minutes(2)))
struct KeylessSignatureTests {
    static let folder = ModelSignatureTests.folder
    static let identity = "stefanb@us.ibm.com", issuer = "https://sigstore.verify.ibm.com/oauth2"

    static func root() throws -> SigstoreTrustedRoot {
        try SigstoreTrustedRoot.read(Data(contentsOf: folder.appending(path: "trusted_root.json")), file: "trusted_root.json").get()
    }

    static func bundle(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> ModelSigningBundle {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appending(path: "v1.1.0-sigstore/model.sig"))) as? [String: Any])
        edit(&json)
        let data = try JSONSerialization.data(withJSONObject: json)
        guard case .success(let b) = ModelSigningBundle.read(data, file: "model.sig") else { throw CancellationError() }
        return b
    }

    static func files(_ bundle: ModelSigningBundle) -> [String: String] {
        Dictionary(uniqueKeysWithValues: bundle.resources.map { ($0.name, $0.digest) })
    }

    @Test("the v1.1.0 Sigstore vector verifies offline: log promise and inclusion proof, chain at the logged time, identity and provider, signature")
    func genuine() async throws {
        let b = try Self.bundle()
        #expect(b.keyless)
        let files = try ModelSignatureTests.files("v1.1.0-sigstore")
        let check = await ModelSignatureCheck.check(b, trustedRoot: try Self.root(), identity: Self.identity, issuer: Self.issuer, files: files)
        #expect(check.verified, "\(check.signature)")
        guard case .valid(let how) = check.signature else { Issue.record("\(check.signature)"); return }
        #expect(how.contains("Sigstore keyless: stefanb@us.ibm.com via https://sigstore.verify.ibm.com/oauth2, logged at index 598151086"))
    }

    @Test("without a trusted root it is present, not verified — never verified")
    func withoutRoot() throws {
        let check = ModelSignatureCheck.check(try Self.bundle(), publicKeyPEM: nil, files: [:])
        #expect(!check.verified)
        #expect(check.signature == .notVerified("signed keylessly (Sigstore); give --trusted-root, --identity and --identity-provider to verify it offline"))
    }

    @Test("another identity or provider, an altered log entry, a forged proof or another signature fail")
    func tampered() async throws {
        let root = try Self.root()
        func verdict(_ b: ModelSigningBundle, identity: String = Self.identity, issuer: String = Self.issuer) async -> ModelSignatureCheck.Signature {
            await ModelSignatureCheck.verifyKeyless(b, trustedRoot: root, identity: identity, issuer: issuer)
        }
        let genuine = try Self.bundle()
        guard case .invalid(let who) = await verdict(genuine, identity: "someone@example.com") else { Issue.record("identity"); return }
        #expect(who.contains("issued to stefanb@us.ibm.com, not someone@example.com"))
        guard case .invalid(let provider) = await verdict(genuine, issuer: "https://accounts.google.com") else { Issue.record("issuer"); return }
        #expect(provider.contains("vouched for by https://sigstore.verify.ibm.com/oauth2"))

        func entry(_ edit: @escaping (inout [String: Any]) -> Void) throws -> ModelSigningBundle {
            try Self.bundle { json in
                var material = json["verificationMaterial"] as? [String: Any] ?? [:]
                var entries = material["tlogEntries"] as? [[String: Any]] ?? []
                edit(&entries[0])
                material["tlogEntries"] = entries
                json["verificationMaterial"] = material
            }
        }
        let movedInTime = try entry { $0["integratedTime"] = "1760062341" }
        guard case .invalid(let promise) = await verdict(movedInTime) else { Issue.record("time"); return }
        #expect(promise.contains("signed promise does not verify"))
        let forgedProof = try entry { e in
            var proof = e["inclusionProof"] as? [String: Any] ?? [:]
            var hashes = proof["hashes"] as? [String] ?? []
            hashes[0] = Data(repeating: 7, count: 32).base64EncodedString()
            proof["hashes"] = hashes
            e["inclusionProof"] = proof
        }
        guard case .invalid(let path) = await verdict(forgedProof) else { Issue.record("proof"); return }
        #expect(path.contains("inclusion proof does not lead to the log's root hash"))
        let otherSignature = try Self.bundle { json in
            var envelope = json["dsseEnvelope"] as? [String: Any] ?? [:]
            var sigs = envelope["signatures"] as? [[String: Any]] ?? []
            sigs[0]["sig"] = "MAYCAQECAQE="
            envelope["signatures"] = sigs
            json["dsseEnvelope"] = envelope
        }
        guard case .invalid(let sig) = await verdict(otherSignature) else { Issue.record("signature"); return }
        #expect(sig.contains("records another signature or certificate"))
    }

    @Test("a changed model file fails after a valid keyless signature, and is named")
    func changedFile() async throws {
        var files = try ModelSignatureTests.files("v1.1.0-sigstore")
        files["signme-1"] = String(repeating: "0", count: 64)
        let check = await ModelSignatureCheck.check(try Self.bundle(), trustedRoot: try Self.root(), identity: Self.identity, issuer: Self.issuer, files: files)
        #expect(!check.verified && check.changed == ["signme-1"])
    }
}
