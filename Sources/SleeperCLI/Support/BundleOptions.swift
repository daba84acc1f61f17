import ArgumentParser
import Foundation
import SleeperCore

/// `--bundle DIR [--add] [--key FILE]`, shared by `export` and `report`: one bundle holds several
/// documents of one state, signed as one set.
struct BundleOptions: ParsableArguments {
    @Option(help: "Write a signed bundle into this directory (empty or new): the document, the evidence manifest, manifest.json and manifest.sig.")
    var bundle: String?
    @Flag(help: "Add the document to the signed bundle already in --bundle (same state: same --as-of, ledger and run) and re-sign the whole set.")
    var add = false
    @Option(help: "The Ed25519 signing key for --bundle (default: the one `sleeper keys create` made).")
    var key: String?

    func validate() throws {
        if add && bundle == nil { throw ValidationError("--add needs --bundle DIR") }
    }

    /// Refuses a bundle directory that already holds files unless `--add`, before any work (or
    /// audit entry) is done: writing into a bundle would silently break its signature.
    func checkTarget(allowUnverified: Bool = false) throws {
        if allowUnverified, bundle != nil { throw CommandFailure(message: "--allow-unverified: an unverified ledger is never signed; drop --bundle") }
        guard let bundle, !add else { return }
        let present = (try? FileManager.default.contentsOfDirectory(atPath: bundle))?.filter { !$0.hasPrefix(".") } ?? []
        if !present.isEmpty {
            throw CommandFailure(message: "\(bundle) is not empty: add to the bundle there with --add (which re-signs the whole set) or choose an empty directory")
        }
    }

    /// Seals `files` into the bundle directory, or adds them to the bundle there; the message to print.
    func write(_ files: [String: Data], snapshot: ComplianceSnapshot) throws -> String? {
        guard let bundle else { return nil }
        let signingKey = try SigningKeys.loadPrivate(key)
        let provenance = EvidenceBundle.Provenance(snapshot)
        var all = files
        all[EvidenceBundle.evidenceManifestName] = Data(EvidenceBundle.evidenceManifest(snapshot).utf8)
        let present = (try? FileManager.default.contentsOfDirectory(atPath: bundle))?.filter { !$0.hasPrefix(".") } ?? []
        let sealed: [String: Data]
        if present.isEmpty {
            sealed = try EvidenceBundle.seal(files: all, key: signingKey, provenance: provenance)
        } else {
            try checkTarget()
            do {
                sealed = try EvidenceBundle.adding(all, to: try BundleDirectory.read(bundle), key: signingKey, provenance: provenance)
            } catch let error as EvidenceBundle.AddError {
                throw CommandFailure(message: "\(bundle): \(error)")
            }
        }
        try BundleDirectory.write(sealed, to: bundle)
        return "wrote \(files.keys.sorted().joined(separator: ", ")) into \(bundle) (\(sealed.count) files), signed by \(EvidenceBundle.fingerprint(signingKey.publicKey))"
    }
}
