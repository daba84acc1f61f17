import Crypto
import Foundation
import SwiftASN1
import X509

/// An OpenSSF model signing signature (sigstore/model-transparency, `model.sig`): a Sigstore
/// bundle whose DSSE envelope carries an in-toto statement. The statement's subject is the model
/// (its name, and a SHA-256 over its files' digests, in order); its predicate lists every file
/// with its digest and says how the files were serialised.
public struct ModelSigningBundle: Sendable {
    public struct Resource: Sendable, Equatable {
        public var name: String
        public var algorithm: String
        public var digest: String
    }

    public var payloadType: String
    public var payload: Data
    public var signatures: [Data]
    public var hasCertificate: Bool
    /// The certificates the bundle carries (DER), the signer's first.
    public var certificates: [Data]
    /// Signed keylessly: a short-lived Fulcio certificate and the transparency log's entries.
    public var keyless: Bool { hasFulcioCertificate && !logEntries.isEmpty }
    public var hasFulcioCertificate = false
    public var logEntries: [SigstoreLogEntry] = []
    public var subjectName: String
    /// The model's digest as the statement gives it (hex).
    public var subjectDigest: String
    public var resources: [Resource]
    public var method: String
    public var hashType: String
    public var ignorePaths: [String]

    /// Reads a bundle, or says what is wrong with it (located in the file).
    public static func read(_ data: Data, file: String) -> Result<ModelSigningBundle, InventoryProblems> {
        let tree: DocumentValue
        do { tree = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file, checksSecrets: false)
        let root = DocumentCursor(value: tree, path: "")
        let envelope = root["dsseEnvelope"]
        guard envelope.fields != nil else {
            c.report("dsseEnvelope", "is missing: not a model signing bundle (model.sig)")
            return .failure(InventoryProblems(c.problems))
        }
        let payloadType = c.string(envelope["payloadType"], required: true) ?? ""
        let payload = c.string(envelope["payload"], required: true).flatMap { Data(base64Encoded: $0) }
        if payload == nil { c.report(envelope["payload"].path, "is not base64") }
        let signatures = c.list(envelope["signatures"]).compactMap { s in c.string(s["sig"]).flatMap { Data(base64Encoded: $0) } }
        if signatures.isEmpty { c.report(envelope["signatures"].path, "holds no signature") }
        let material = root["verificationMaterial"]
        let certificate = !material["certificate"].isMissing || !material["x509CertificateChain"].isMissing
        let certificates = ([material["certificate"]] + c.list(material["x509CertificateChain"]["certificates"]))
            .compactMap { c.string($0["rawBytes"]).flatMap { Data(base64Encoded: $0) } }
        guard let payload, c.problems.isEmpty else { return .failure(InventoryProblems(c.problems)) }

        // The statement, inside the payload.
        let statementFile = file + " (statement)"
        let statementTree: DocumentValue
        do { statementTree = try DocumentLoader.load(payload, file: statementFile + ".json") } catch { return .failure(InventoryProblems([error])) }
        let s = ProblemCollector(file: statementFile, checksSecrets: false)
        let statement = DocumentCursor(value: statementTree, path: "")
        if s.string(statement["_type"]) != "https://in-toto.io/Statement/v1" {
            s.report("_type", "is not an in-toto v1 statement")
        }
        let subjects = s.list(statement["subject"])
        if subjects.count != 1 { s.report("subject", "must name one model, not \(subjects.count)") }
        let subjectName = subjects.first.flatMap { s.string($0["name"]) } ?? ""
        let subjectDigest = subjects.first.flatMap { s.string($0["digest"]["sha256"]) }?.lowercased() ?? ""
        let predicate = statement["predicate"]
        let resources = s.list(predicate["resources"]).compactMap { r -> Resource? in
            guard let name = s.string(r["name"], required: true), let digest = s.string(r["digest"], required: true) else { return nil }
            return Resource(name: name, algorithm: s.string(r["algorithm"]) ?? "sha256", digest: digest.lowercased())
        }
        let serialization = predicate["serialization"]
        let method = s.string(serialization["method"]) ?? ""
        let hashType = s.string(serialization["hash_type"]) ?? ""
        if method != "files" { s.report("predicate.serialization.method", "'\(method)' is not read here (only files)") }
        if hashType != "sha256" { s.report("predicate.serialization.hash_type", "'\(hashType)' is not read here (only sha256)") }
        let ignorePaths = s.list(serialization["ignore_paths"]).compactMap { s.string($0) }
        guard s.problems.isEmpty else { return .failure(InventoryProblems(s.problems)) }
        var bundle = ModelSigningBundle(
            payloadType: payloadType, payload: payload, signatures: signatures,
            hasCertificate: certificate, certificates: certificates, subjectName: subjectName, subjectDigest: subjectDigest,
            resources: resources, method: method, hashType: hashType, ignorePaths: ignorePaths)
        bundle.hasFulcioCertificate = !material["certificate"].isMissing
        bundle.logEntries = c.list(material["tlogEntries"]).compactMap { SigstoreLogEntry.read($0, c) }
        guard c.problems.isEmpty else { return .failure(InventoryProblems(c.problems)) }
        return .success(bundle)
    }

    /// DSSE's pre-authentication encoding: what the signature is over.
    public static func pae(type: String, body: Data) -> Data {
        var out = Data("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8)
        out.append(body)
        return out
    }

    /// The digest the statement's subject must have: SHA-256 over the files' digests, in order.
    public var manifestDigest: String { ModelDigest.combined(resources.map(\.digest)) }

    static func bytes(hex: String) -> Data {
        var out = Data(capacity: hex.utf8.count / 2)
        var high: UInt8?
        for u in hex.utf8 {
            let v: UInt8
            switch u {
            case 48...57: v = u - 48
            case 97...102: v = u - 87
            case 65...70: v = u - 55
            default: continue
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}

/// What verifying a model's signature found.
public struct ModelSignatureCheck: Sendable {
    public enum Signature: Sendable, Equatable {
        case valid(curve: String)
        case invalid(String)
        /// Signed with a certificate or keylessly: present, but nothing here can verify it.
        case notVerified(String)
    }

    public var signature: Signature
    /// Whether the statement's subject digest is the digest of the files it lists.
    public var manifestConsistent: Bool
    /// Files whose bytes differ, files listed but absent, files present but not listed.
    public var changed: [String], missing: [String], extra: [String]
    public var subjectDigest: String
    public var files: Int
    /// Who signed, as the verification established it (nil until a signature is checked):
    /// `key sha256:HEX` (the SHA-256 of the key's SubjectPublicKeyInfo), `certificate SUBJECT
    /// (SAN …) issued by ISSUER`, or `keyless IDENTITY via PROVIDER`. Compared as written with
    /// the signers declared trusted (`sleeper signers`).
    public var signer: String?

    public var verified: Bool {
        if case .valid = signature { return manifestConsistent && changed.isEmpty && missing.isEmpty && extra.isEmpty }
        return false
    }

    /// Checks `bundle` against a public key (PEM: ECDSA P-256, P-384 or P-521) and the files as
    /// they are now (relative path → SHA-256 hex, ignored paths already left out).
    public static func check(_ bundle: ModelSigningBundle, publicKeyPEM: String?, files: [String: String]) -> ModelSignatureCheck {
        let signed = ModelSigningBundle.pae(type: bundle.payloadType, body: bundle.payload)
        let signature: Signature
        if let pem = publicKeyPEM {
            signature = verify(bundle.signatures, over: signed, pem: pem)
        } else {
            signature = .notVerified(
                bundle.keyless
                    ? "signed keylessly (Sigstore); give --trusted-root, --identity and --identity-provider to verify it offline"
                    : bundle.hasCertificate
                        ? "signed with a certificate; give --certificate-chain (or the signer's --public-key) to verify it"
                        : "no public key given; give the signer's --public-key to verify it")
        }
        let listed = Dictionary(bundle.resources.map { ($0.name, $0.digest) }, uniquingKeysWith: { a, _ in a })
        var signer: String?
        if let pem = publicKeyPEM, case .valid = signature { signer = keySigner(pem) }
        return ModelSignatureCheck(
            signature: signature,
            manifestConsistent: bundle.manifestDigest == bundle.subjectDigest,
            changed: listed.filter { files[$0.key] != nil && files[$0.key] != $0.value }.map(\.key).sorted(),
            missing: listed.keys.filter { files[$0] == nil }.sorted(),
            extra: files.keys.filter { listed[$0] == nil }.sorted(),
            subjectDigest: bundle.subjectDigest, files: files.count, signer: signer)
    }

    /// `key sha256:HEX`: the SHA-256 of the key's SubjectPublicKeyInfo (DER), whatever its PEM layout.
    static func keySigner(_ pem: String) -> String? {
        let pem = pem.range(of: "-----BEGIN").map { String(pem[$0.lowerBound...]) } ?? pem
        let der: Data
        if let k = try? P384.Signing.PublicKey(pemRepresentation: pem) {
            der = k.derRepresentation
        } else if let k = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            der = k.derRepresentation
        } else if let k = try? P521.Signing.PublicKey(pemRepresentation: pem) {
            der = k.derRepresentation
        } else {
            return nil
        }
        return "key sha256:" + SHA256.hash(data: der).hexEncoded
    }

    /// `certificate SUBJECT (SAN a, b) issued by ISSUER`.
    static func certificateSigner(_ leaf: Certificate) -> String {
        let names = SignerIdentityPolicy.names(leaf)
        return "certificate \(leaf.subject)" + (names.isEmpty ? "" : " (SAN \(names.joined(separator: ", ")))") + " issued by \(leaf.issuer)"
    }

    /// Checks a bundle signed with a certificate: the certificates it carries must lead to one of
    /// `trusted` (PEM certificates: the roots, and any intermediates the user vouches for) and be
    /// valid at `time`; the signature is then checked with the signer certificate's key.
    public static func check(_ bundle: ModelSigningBundle, trusting trusted: String, at time: Date, files: [String: String]) async -> ModelSignatureCheck {
        var result = check(bundle, publicKeyPEM: nil, files: files)
        result.signature = await verifyChain(bundle, trusting: trusted, at: time)
        if case .valid = result.signature, let der = bundle.certificates.first, let leaf = try? Certificate(derEncoded: Array(der)) {
            result.signer = certificateSigner(leaf)
        }
        return result
    }

    static func verifyChain(_ bundle: ModelSigningBundle, trusting trusted: String, at time: Date) async -> Signature {
        guard let leafDER = bundle.certificates.first else { return .invalid("the bundle carries no certificate; verify it with --public-key") }
        let anchors: [Certificate]
        do {
            anchors = try PEMDocument.parseMultiple(pemString: trusted).map { try Certificate(pemDocument: $0) }
        } catch {
            return .invalid("the trusted certificates are not PEM certificates")
        }
        guard !anchors.isEmpty else { return .invalid("no trusted certificate given") }
        guard let leaf = try? Certificate(derEncoded: Array(leafDER)) else { return .invalid("the signer's certificate in the bundle is not DER") }
        let intermediates = bundle.certificates.dropFirst().compactMap { try? Certificate(derEncoded: Array($0)) }
        return await verify(bundle, leaf: leaf, roots: anchors, intermediates: intermediates, at: time, signer: "certificate \(leaf.subject)")
    }

    /// The leaf must lead to one of `roots` through `intermediates`, valid at `time`; then the
    /// signature is checked with the leaf's key.
    /// With `identity`, the leaf must name it among its subject alternative names (a keyless
    /// certificate has no subject, and marks those names critical).
    static func verify(
        _ bundle: ModelSigningBundle, leaf: Certificate, roots: [Certificate], intermediates: [Certificate], at time: Date,
        signer: String, identity: String? = nil
    ) async -> Signature {
        let validation: CertificateValidationResult
        if let identity {
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
                RFC5280Policy(validationTime: time)
                SignerIdentityPolicy(identity: identity)
            }
            validation = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
        } else {
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: time) }
            validation = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
        }
        switch validation {
        case .couldNotValidate(let failures):
            return .invalid(
                "the signer's certificate (\(leaf.subject)) does not lead to a trusted certificate valid at \(Timestamps.format(time))"
                    + (failures.isEmpty ? "" : " (\(failures.count) chain(s) refused: \(failures.map { $0.policyFailureReason.description }.joined(separator: "; ")))"))
        case .validCertificate:
            let signed = ModelSigningBundle.pae(type: bundle.payloadType, body: bundle.payload)
            guard let sig = bundle.signatures.first else { return .invalid("no signature") }
            let valid: Bool?
            let curve: String
            if let key = P384.Signing.PublicKey(leaf.publicKey), let s = try? P384.Signing.ECDSASignature(derRepresentation: sig) {
                (valid, curve) = (key.isValidSignature(s, for: signed), "P-384")
            } else if let key = P256.Signing.PublicKey(leaf.publicKey), let s = try? P256.Signing.ECDSASignature(derRepresentation: sig) {
                (valid, curve) = (key.isValidSignature(s, for: signed), "P-256")
            } else if let key = P521.Signing.PublicKey(leaf.publicKey), let s = try? P521.Signing.ECDSASignature(derRepresentation: sig) {
                (valid, curve) = (key.isValidSignature(s, for: signed), "P-521")
            } else {
                (valid, curve) = (nil, "")
            }
            guard let valid else { return .invalid("the signer's certificate does not hold an ECDSA key, or the signature is not DER") }
            return valid ? .valid(curve: "\(curve), \(signer)") : .invalid("the signature does not verify with the signer's certificate")
        }
    }

    /// The bundle's `publicKey.hint` is not read: it hashes the key's PEM as the signer wrote it,
    /// and the same key in another layout verifies just as well.
    static func verify(_ signatures: [Data], over signed: Data, pem: String) -> Signature {
        guard let first = signatures.first else { return .invalid("no signature") }
        // Key files often carry a readable dump before the block (as `certtool` writes them).
        let pem = pem.range(of: "-----BEGIN").map { String(pem[$0.lowerBound...]) } ?? pem
        if let key = try? P384.Signing.PublicKey(pemRepresentation: pem) {
            guard let sig = try? P384.Signing.ECDSASignature(derRepresentation: first) else { return .invalid("the signature is not a DER ECDSA signature") }
            return key.isValidSignature(sig, for: signed) ? .valid(curve: "P-384") : .invalid("the signature does not verify with this key")
        }
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: first) else { return .invalid("the signature is not a DER ECDSA signature") }
            return key.isValidSignature(sig, for: signed) ? .valid(curve: "P-256") : .invalid("the signature does not verify with this key")
        }
        if let key = try? P521.Signing.PublicKey(pemRepresentation: pem) {
            guard let sig = try? P521.Signing.ECDSASignature(derRepresentation: first) else { return .invalid("the signature is not a DER ECDSA signature") }
            return key.isValidSignature(sig, for: signed) ? .valid(curve: "P-521") : .invalid("the signature does not verify with this key")
        }
        return .invalid("the public key is not an ECDSA P-256, P-384 or P-521 key in PEM")
    }
}
