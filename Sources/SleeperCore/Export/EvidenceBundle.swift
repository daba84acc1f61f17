import Crypto
import Foundation

/// A signed evidence bundle: the export, an evidence manifest (which record checked which
/// artifact hash), and `manifest.json` listing every file's SHA-256, signed with Ed25519 in
/// `manifest.sig`. Anyone holding the public key can tell whether a file changed, which one,
/// and whether the bundle is the one that key signed.
public enum EvidenceBundle {
    public static let manifestName = "manifest.json"
    public static let signatureName = "manifest.sig"
    public static let evidenceManifestName = "evidence-manifest.json"

    /// Which records and artifact hashes the export rests on, in ledger order.
    public static func evidenceManifest(_ snapshot: ComplianceSnapshot) -> String {
        JSONValue.obj([
            ("as_of", .string(Timestamps.format(snapshot.asOf))),
            ("ledger_head", .string(snapshot.ledgerHead)),
            (
                "records",
                .array(
                    snapshot.evidence.values.sorted { $0.id < $1.id }.map { r in
                        .obj([
                            ("id", .int(r.id)), ("subject", .string(r.subject.description)), ("control", .string(r.control)),
                            ("result", .string(r.result.rawValue)), ("record_hash", .string(r.hash)),
                            ("subject_digest", r.subjectDigest.map(JSONValue.string)),
                            ("covered_files", .array(r.coveredFiles.map(JSONValue.string))),
                            (
                                "artifacts",
                                .array(
                                    r.artifacts.map { a in
                                        .obj([("name", .string(a.name)), ("sha256", .string(a.sha256)), ("size", .int(a.size))])
                                    })
                            ),
                        ])
                    })
            ),
        ]).pretty()
    }

    public static func sha256(_ data: Data) -> String { SHA256.hash(data: data).hexEncoded }

    /// What a bundle's documents were made from: one state of the store, so that every file of
    /// one bundle describes the same thing.
    public struct Provenance: Sendable, Equatable {
        public var asOf: Date
        public var ledgerHead: String
        public var scoreRun: Int?
        public var weightsVersion: String
        public var toolVersion: String
        public var basis: EvidenceBasis

        public init(_ snapshot: ComplianceSnapshot) {
            (asOf, ledgerHead, scoreRun, weightsVersion, toolVersion, basis) =
                (snapshot.asOf, snapshot.ledgerHead, snapshot.runID, snapshot.weightsVersion, snapshot.toolVersion, snapshot.basis)
        }

        var json: JSONValue {
            .obj([
                ("as_of", .string(Timestamps.format(asOf))), ("ledger_head", .string(ledgerHead)),
                ("score_run", scoreRun.map(JSONValue.int) ?? .null), ("weights_version", .string(weightsVersion)),
                ("sleeper_version", .string(toolVersion)), ("evidence_basis", .string(basis.rawValue)),
            ])
        }
    }

    /// The manifest for `files` (name → bytes), naming the key that signs it and what the files
    /// were made from.
    public static func manifest(files: [String: Data], publicKey: Curve25519.Signing.PublicKey, provenance: Provenance) -> Data {
        Data(
            JSONValue.obj([
                ("format", .string("sleeper-bundle/1")),
                ("as_of", .string(Timestamps.format(provenance.asOf))),
                ("made_from", provenance.json),
                ("signing_key", .string(publicKey.rawRepresentation.base64EncodedString())),
                (
                    "files",
                    .array(
                        files.sorted { $0.key < $1.key }.map { name, data in
                            .obj([("name", .string(name)), ("sha256", .string(sha256(data))), ("size", .int(data.count))])
                        })
                ),
            ]).pretty().utf8)
    }

    /// Signs `files` and returns every file of the bundle, the manifest and signature included.
    public static func seal(files: [String: Data], key: Curve25519.Signing.PrivateKey, provenance: Provenance) throws -> [String: Data] {
        let manifest = manifest(files: files, publicKey: key.publicKey, provenance: provenance)
        let signature = try key.signature(for: manifest)
        var out = files
        out[manifestName] = manifest
        out[signatureName] = Data((signature.base64EncodedString() + "\n").utf8)
        return out
    }

    public struct AddError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Adds `new` files to an `existing` bundle and re-signs the whole set. The existing bundle
    /// must verify under the same key, describe the same state (as-of, ledger head, run, weights)
    /// and not already hold a file of that name (but for an identical evidence manifest).
    public static func adding(
        _ new: [String: Data], to existing: [String: Data], key: Curve25519.Signing.PrivateKey,
        provenance: Provenance
    ) throws -> [String: Data] {
        let check = verify(files: existing, trusted: key.publicKey)
        guard check.problems.isEmpty else {
            throw AddError(description: "the bundle does not verify under this key, so it is not re-signed: " + check.problems.joined(separator: "; "))
        }
        guard let data = existing[manifestName], case .object(let m)? = try? JSONTreeParser.parse(data), case .object(let made)? = m["made_from"] else {
            throw AddError(description: "the bundle's manifest does not say what it was made from (made by an older Sleeper); start a new bundle")
        }
        func text(_ key: String) -> String {
            switch made[key] {
            case .string(let s)?: return s
            case .int(let i)?: return String(i)
            default: return "none"
            }
        }
        let theirs = [
            "as_of": text("as_of"), "ledger_head": text("ledger_head"), "score_run": text("score_run"),
            "weights_version": text("weights_version"), "sleeper_version": text("sleeper_version"), "evidence_basis": text("evidence_basis"),
        ]
        let ours = [
            "as_of": Timestamps.format(provenance.asOf), "ledger_head": provenance.ledgerHead, "score_run": provenance.scoreRun.map(String.init) ?? "none",
            "weights_version": provenance.weightsVersion, "sleeper_version": provenance.toolVersion, "evidence_basis": provenance.basis.rawValue,
        ]
        let differing = ours.keys.sorted().filter { ours[$0] != theirs[$0] }
        guard differing.isEmpty else {
            throw AddError(
                description: "the bundle describes another state (" + differing.map { "\($0) \(theirs[$0] ?? "none") there, \(ours[$0] ?? "none") here" }.joined(separator: "; ")
                    + "); add exports made with the same --as-of from the same ledger and run, or start a new bundle")
        }
        var files = existing.filter { $0.key != manifestName && $0.key != signatureName }
        for (name, bytes) in new.sorted(by: { $0.key < $1.key }) {
            if let old = files[name], old != bytes {
                throw AddError(description: "the bundle already holds \(name); start a new bundle to replace it")
            }
            files[name] = bytes
        }
        return try seal(files: files, key: key, provenance: provenance)
    }

    public struct Verification: Sendable {
        public var signingKey: String
        public var files: Int
        /// Everything wrong, each naming its file; empty when the bundle verifies.
        public var problems: [String]
    }

    /// Checks the signature over the manifest, then every listed file's hash, and reports files
    /// that are missing or not listed. `trusted`, when given, must be the key that signed.
    public static func verify(files: [String: Data], trusted: Curve25519.Signing.PublicKey?) -> Verification {
        var problems: [String] = []
        guard let manifestData = files[manifestName] else { return Verification(signingKey: "", files: 0, problems: ["\(manifestName): missing"]) }
        guard case .object(let m)? = try? JSONTreeParser.parse(manifestData), case .string(let keyText)? = m["signing_key"],
            let keyData = Data(base64Encoded: keyText), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            case .array(let listed)? = m["files"]
        else {
            return Verification(signingKey: "", files: 0, problems: ["\(manifestName): not a Sleeper bundle manifest"])
        }
        if let trusted, trusted.rawRepresentation != key.rawRepresentation {
            problems.append("\(manifestName): signed by key \(fingerprint(key)), not the trusted key \(fingerprint(trusted))")
        }
        let signature = files[signatureName].flatMap { Data(base64Encoded: String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
        if signature == nil {
            problems.append("\(signatureName): missing or unreadable")
        } else if let signature, !key.isValidSignature(signature, for: manifestData) {
            problems.append("\(manifestName): the signature does not match (the manifest was changed or signed by another key)")
        }
        var seen = Set([manifestName, signatureName])
        for entry in listed {
            guard case .object(let f) = entry, case .string(let name)? = f["name"], case .string(let hash)? = f["sha256"] else {
                problems.append("\(manifestName): an entry without a name or sha256"); continue
            }
            seen.insert(name)
            guard let data = files[name] else { problems.append("\(name): missing"); continue }
            if sha256(data) != hash { problems.append("\(name): changed (sha256 \(sha256(data).prefix(16))…, manifest says \(hash.prefix(16))…)") }
        }
        for name in files.keys.sorted() where !seen.contains(name) { problems.append("\(name): not in the manifest") }
        return Verification(signingKey: fingerprint(key), files: listed.count, problems: problems)
    }

    /// A short, stable name for a key: the first 16 hex digits of its SHA-256.
    public static func fingerprint(_ key: Curve25519.Signing.PublicKey) -> String {
        "ed25519:" + sha256(key.rawRepresentation).prefix(16)
    }
}
