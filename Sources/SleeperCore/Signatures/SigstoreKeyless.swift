import Crypto
import Foundation
import SwiftASN1
import X509

/// One entry of Sigstore's transparency log (Rekor), as a bundle carries it.
public struct SigstoreLogEntry: Sendable {
    public var logIndex: Int
    public var keyID: Data
    public var integratedTime: Int
    public var kind: String
    /// The entry as the log stored it (canonical JSON), what its promise and proof are over.
    public var body: Data
    public var bodyBase64: String
    public var signedEntryTimestamp: Data?
    public var proof: Proof?

    public struct Proof: Sendable {
        public var logIndex: Int, treeSize: Int
        public var rootHash: Data
        public var hashes: [Data]
        public var checkpoint: String
    }

    static func read(_ e: DocumentCursor, _ c: ProblemCollector) -> SigstoreLogEntry? {
        func int(_ x: DocumentCursor) -> Int? { c.string(x).flatMap { Int($0) } }
        func bytes(_ x: DocumentCursor) -> Data? { c.string(x).flatMap { Data(base64Encoded: $0) } }
        guard let index = int(e["logIndex"]), let key = bytes(e["logId"]["keyId"]), let time = int(e["integratedTime"]),
            let bodyText = c.string(e["canonicalizedBody"]), let body = Data(base64Encoded: bodyText)
        else {
            c.report(e.path, "is not a transparency log entry (logIndex, logId.keyId, integratedTime, canonicalizedBody)")
            return nil
        }
        var proof: Proof?
        let p = e["inclusionProof"]
        if p.fields != nil {
            guard let i = int(p["logIndex"]), let size = int(p["treeSize"]), let root = bytes(p["rootHash"]),
                let checkpoint = c.string(p["checkpoint"]["envelope"])
            else {
                c.report(p.path, "is not an inclusion proof (logIndex, treeSize, rootHash, checkpoint)")
                return nil
            }
            proof = Proof(logIndex: i, treeSize: size, rootHash: root, hashes: c.list(p["hashes"]).compactMap(bytes), checkpoint: checkpoint)
        }
        return SigstoreLogEntry(
            logIndex: index, keyID: key, integratedTime: time, kind: c.string(e["kindVersion"]["kind"]) ?? "",
            body: body, bodyBase64: bodyText, signedEntryTimestamp: bytes(e["inclusionPromise"]["signedEntryTimestamp"]), proof: proof)
    }
}

/// The roots of trust Sigstore publishes (`trusted_root.json`): the Fulcio certificate
/// authorities and the transparency logs' keys. The user provides it; nothing is fetched.
public struct SigstoreTrustedRoot: Sendable {
    public var certificates: [Certificate]
    public var logKeys: [Data: P256.Signing.PublicKey]

    public static func read(_ data: Data, file: String) -> Result<SigstoreTrustedRoot, InventoryProblems> {
        let tree: DocumentValue
        do { tree = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file, checksSecrets: false)
        let r = DocumentCursor(value: tree, path: "")
        var certificates: [Certificate] = []
        for ca in c.list(r["certificateAuthorities"]) {
            for cert in c.list(ca["certChain"]["certificates"]) {
                guard let der = c.string(cert["rawBytes"]).flatMap({ Data(base64Encoded: $0) }), let parsed = try? Certificate(derEncoded: Array(der)) else {
                    c.report(cert["rawBytes"].path, "is not a base64 DER certificate")
                    continue
                }
                certificates.append(parsed)
            }
        }
        var keys: [Data: P256.Signing.PublicKey] = [:]
        for log in c.list(r["tlogs"]) {
            guard let id = c.string(log["logId"]["keyId"]).flatMap({ Data(base64Encoded: $0) }),
                let der = c.string(log["publicKey"]["rawBytes"]).flatMap({ Data(base64Encoded: $0) })
            else {
                c.report(log.path, "needs logId.keyId and publicKey.rawBytes")
                continue
            }
            // Logs with other kinds of keys are left out: their entries are then not trusted.
            if let key = try? P256.Signing.PublicKey(derRepresentation: der) { keys[id] = key }
        }
        if certificates.isEmpty { c.report("certificateAuthorities", "holds no certificate: not a Sigstore trusted root") }
        if keys.isEmpty { c.report("tlogs", "holds no ECDSA P-256 log key: not a Sigstore trusted root") }
        return c.problems.isEmpty ? .success(SigstoreTrustedRoot(certificates: certificates, logKeys: keys)) : .failure(InventoryProblems(c.problems))
    }
}

extension ModelSignatureCheck {
    /// Verifies a keyless (Sigstore) bundle offline: the log entry's signed promise and inclusion
    /// proof with the trusted log key, the entry against this signature and certificate, the
    /// certificate's chain to a trusted Fulcio authority at the time the log recorded it, the
    /// signer's identity and its identity provider, and the signature with the certificate's key.
    public static func check(
        _ bundle: ModelSigningBundle, trustedRoot: SigstoreTrustedRoot, identity: String, issuer: String,
        files: [String: String]
    ) async -> ModelSignatureCheck {
        var result = check(bundle, publicKeyPEM: nil, files: files)
        result.signature = await verifyKeyless(bundle, trustedRoot: trustedRoot, identity: identity, issuer: issuer)
        if case .valid = result.signature { result.signer = "keyless \(identity) via \(issuer)" }
        return result
    }

    public static func verifyKeyless(_ bundle: ModelSigningBundle, trustedRoot: SigstoreTrustedRoot, identity: String, issuer: String) async -> Signature {
        guard bundle.keyless, let leafDER = bundle.certificates.first, let leaf = try? Certificate(derEncoded: Array(leafDER)) else {
            return .invalid("not a keyless bundle (a Fulcio certificate and a transparency log entry)")
        }
        guard let entry = bundle.logEntries.first(where: { trustedRoot.logKeys[$0.keyID] != nil }), let logKey = trustedRoot.logKeys[entry.keyID] else {
            return .invalid("no transparency log entry from a log the trusted root names")
        }
        if let problem = logProblem(entry, key: logKey) { return .invalid(problem) }
        if let problem = entryProblem(entry, bundle: bundle, leafDER: leafDER) { return .invalid(problem) }
        // Who signed, as the certificate says, before anything is called verified.
        let names = SignerIdentityPolicy.names(leaf)
        guard names.contains(identity) else {
            return .invalid("the certificate was issued to \(names.isEmpty ? "no identity" : names.joined(separator: ", ")), not \(identity)")
        }
        let provider = Self.identityProvider(leaf)
        guard provider == issuer else { return .invalid("the identity was vouched for by \(provider ?? "no provider"), not \(issuer)") }
        let roots = trustedRoot.certificates.filter { $0.subject == $0.issuer }
        let intermediates = trustedRoot.certificates.filter { $0.subject != $0.issuer }
        let at = Date(timeIntervalSince1970: TimeInterval(entry.integratedTime))
        return await verify(
            bundle, leaf: leaf, roots: roots, intermediates: intermediates, at: at,
            signer: "Sigstore keyless: \(identity) via \(issuer), logged at index \(entry.logIndex) on \(Timestamps.format(at))",
            identity: identity)
    }

    /// The log's promise (its signature over the entry) and, when present, the inclusion proof
    /// up to a checkpoint the log signed.
    static func logProblem(_ entry: SigstoreLogEntry, key: P256.Signing.PublicKey) -> String? {
        guard let set = entry.signedEntryTimestamp, let signature = try? P256.Signing.ECDSASignature(derRepresentation: set) else {
            return "the log entry carries no signed promise"
        }
        let promised = "{\"body\":\"\(entry.bodyBase64)\",\"integratedTime\":\(entry.integratedTime),\"logID\":\"\(entry.keyID.hexEncoded)\",\"logIndex\":\(entry.logIndex)}"
        guard key.isValidSignature(signature, for: Data(promised.utf8)) else { return "the log's signed promise does not verify: the entry was altered" }
        guard let proof = entry.proof else { return nil }
        var leafHash = SHA256()
        leafHash.update(data: Data([0]))
        leafHash.update(data: entry.body)
        guard let root = merkleRoot(leaf: Data(leafHash.finalize()), index: proof.logIndex, size: proof.treeSize, path: proof.hashes), root == proof.rootHash else {
            return "the inclusion proof does not lead to the log's root hash"
        }
        // The checkpoint: "origin\nsize\nroot\n\n— name base64(keyhint ‖ signature)\n".
        let parts = proof.checkpoint.components(separatedBy: "\n\n")
        let lines = parts[0].split(separator: "\n")
        guard parts.count >= 2, lines.count >= 3, Int(lines[1]) == proof.treeSize, Data(base64Encoded: String(lines[2])) == proof.rootHash,
            let signatureLine = parts[1].split(separator: "\n").first, let encoded = signatureLine.split(separator: " ").last,
            let raw = Data(base64Encoded: String(encoded)), raw.count > 4,
            let checkpointSignature = try? P256.Signing.ECDSASignature(derRepresentation: raw.dropFirst(4)),
            key.isValidSignature(checkpointSignature, for: Data((parts[0] + "\n").utf8))
        else {
            return "the log's checkpoint does not verify for this tree"
        }
        return nil
    }

    /// RFC 9162 inclusion: the root reached from `leaf` at `index` in a tree of `size` leaves.
    static func merkleRoot(leaf: Data, index: Int, size: Int, path: [Data]) -> Data? {
        guard index >= 0, index < size else { return nil }
        func node(_ a: Data, _ b: Data) -> Data {
            var h = SHA256()
            h.update(data: Data([1]))
            h.update(data: a)
            h.update(data: b)
            return Data(h.finalize())
        }
        var fn = index, sn = size - 1, r = leaf
        for p in path {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = node(p, r)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                r = node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? r : nil
    }

    /// The logged entry must be this signature, over this payload, with this certificate.
    static func entryProblem(_ entry: SigstoreLogEntry, bundle: ModelSigningBundle, leafDER: Data) -> String? {
        guard entry.kind == "dsse" else { return "a log entry of kind '\(entry.kind)' is not read (only dsse)" }
        guard let tree = try? JSONTreeParser.parse(entry.body, maximumDepth: 16) else { return "the log entry's body is not JSON" }
        let spec = DocumentCursor(value: tree, path: "")["spec"]
        let payloadHash = SHA256.hash(data: bundle.payload).hexEncoded
        guard case .string(let logged)? = spec["payloadHash"]["value"].value, logged == payloadHash else {
            return "the log entry is about another payload"
        }
        let signatures = spec["signatures"].elements ?? []
        let ours = bundle.signatures.first?.base64EncodedString()
        let match = signatures.contains { s in
            guard case .string(let sig)? = s["signature"].value, sig == ours,
                case .string(let verifier)? = s["verifier"].value, let pemData = Data(base64Encoded: verifier),
                let cert = try? Certificate(pemEncoded: String(decoding: pemData, as: UTF8.self))
            else { return false }
            var serializer = DER.Serializer()
            return (try? serializer.serialize(cert)).map { Data(serializer.serializedBytes) == leafDER } ?? false
        }
        return match ? nil : "the log entry records another signature or certificate"
    }

    /// Fulcio's OIDC issuer extension: 1.3.6.1.4.1.57264.1.8 (a DER UTF8String), or the older 1.3.6.1.4.1.57264.1.1 (raw text).
    static func identityProvider(_ leaf: Certificate) -> String? {
        if let v2 = leaf.extensions[oid: [1, 3, 6, 1, 4, 1, 57264, 1, 8]], let text = try? ASN1UTF8String(derEncoded: v2.value) {
            return String(text)
        }
        if let v1 = leaf.extensions[oid: [1, 3, 6, 1, 4, 1, 57264, 1, 1]] { return String(decoding: v1.value, as: UTF8.self) }
        return nil
    }
}

/// The signer a keyless certificate must name: its subject alternative names (critical in a
/// Fulcio certificate, whose subject is empty) must include the identity asked for.
struct SignerIdentityPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.subjectAlternativeName]
    let identity: String

    mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let identity = self.identity
        return Self.names(chain.leaf).contains(identity) ? .meetsPolicy : .failsToMeetPolicy(reason: "the certificate does not name \(identity)")
    }

    /// The e-mail addresses and URIs a certificate is issued to.
    static func names(_ certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name -> String? in
            switch name {
            case .rfc822Name(let email): return email
            case .uniformResourceIdentifier(let uri): return uri
            default: return nil
            }
        }
    }
}
