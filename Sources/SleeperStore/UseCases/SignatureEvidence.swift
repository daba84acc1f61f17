import Foundation
import SleeperCore

extension ScoredChanges {
    /// What a verified signature is recorded as, and why.
    public enum SignatureVerdict: Sendable, Equatable {
        /// Recorded (pass or fail), with the words the record's note carries.
        case recorded(EvidenceResult, String)
        /// Valid, but no signer is declared for the model and none was pinned: nothing recorded.
        case undeclared(signer: String)
    }

    /// A model signature as SLP-SIGNATURE evidence: a pass only when the signature verifies over
    /// the model's files *and* the signer is one declared trusted for the model or its supplier
    /// (`pinSigner` declares the signer first, audited); a valid signature by anyone else is a
    /// fail that says who signed and who was expected. Bound to the signed digest by the ledger.
    public func recordSignature(
        _ check: ModelSignatureCheck, subject: Subject, bundleName: String, bundleData: Data, summary: String,
        pinSigner: Bool, by: String?, actor: String
    ) async throws -> (verdict: SignatureVerdict, records: [EvidenceRecord], rescore: Rescore?) {
        var result: EvidenceResult = check.verified ? .pass : .fail
        var words = summary
        if check.verified, let signer = check.signer {
            let signers = TrustedSigners(db)
            var expected = try await signers.expected(for: subject.key)
            // Pinned only for the bytes the model has: a signature over other bytes is refused by
            // the ledger below, and must not leave a trusted signer behind.
            let sameBytes = try await InventoryStore(db).modelDigest(subject.key) == .some("sha256:" + check.subjectDigest)
            if expected.isEmpty && pinSigner && sameBytes {
                try await signers.trust(model: subject.key, signer: signer, by: by ?? "sleeper verify-model", actor: actor)
                expected = [signer]
            }
            // Over other bytes the ledger refuses the record below, and says why.
            guard !expected.isEmpty || !sameBytes else { return (.undeclared(signer: signer), [], nil) }
            if expected.isEmpty {
                words += "; signed by \(signer)"
            } else if expected.contains(signer) {
                words += "; signed by \(signer), a declared signer"
            } else {
                result = .fail
                words += "; signed by \(signer), expected \(expected.joined(separator: " or "))"
            }
        }
        var draft = EvidenceDraft(
            subject: subject, control: "SLP-SIGNATURE", result: result,
            artifacts: [.of(name: bundleName, data: bundleData)], recordedBy: by ?? "sleeper verify-model",
            note: "OpenSSF model signing: " + words)
        draft.boundDigest = "sha256:" + check.subjectDigest
        let (records, rescore) = try await recordEvidence([draft], actor: actor)
        return (.recorded(result, words), records, rescore)
    }
}
