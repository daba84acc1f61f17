import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper verify-model`: verifies an OpenSSF model signing signature (sigstore/model-transparency)
/// over a model's files, and with `--subject` records the result as SLP-SIGNATURE evidence bound
/// to the model's digest.
struct VerifyModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-model",
        abstract: "Verify a model's signature (OpenSSF model signing, model.sig) over its files; --subject records it as SLP-SIGNATURE evidence.",
        discussion: HelpText.discussion("verify-model"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The model's directory.") var directory: String
    @Option(help: "The signature bundle (default: DIRECTORY/model.sig).") var signature: String?
    @Option(name: .customLong("public-key"), help: "The signer's public key (PEM; ECDSA P-256, P-384 or P-521).") var publicKey: String?
    @Option(
        name: .customLong("certificate-chain"), parsing: .upToNextOption,
        help: "For a bundle signed with a certificate: the certificates to trust (PEM: the root, and intermediates you vouch for).")
    var certificateChain: [String] = []
    @Option(name: .customLong("trusted-root"), help: "For a keyless (Sigstore) bundle: Sigstore's trusted_root.json (Fulcio authorities and log keys), read offline.")
    var trustedRoot: String?
    @Option(help: "For a keyless bundle: the signer's identity the certificate must name (an e-mail address or URI).") var identity: String?
    @Option(name: .customLong("identity-provider"), help: "For a keyless bundle: the OIDC issuer that must have vouched for the identity.") var identityProvider: String?
    @Option(name: .customLong("ignore-paths"), parsing: .upToNextOption, help: "Paths in the directory that are not part of the model (besides those the signature lists).")
    var ignorePaths: [String] = []
    @Option(help: "Record the result as evidence about this model (model:KEY); its digest in the inventory must be the signature's.") var subject: String?
    @Option(help: "Who verified (kept with the evidence).") var by: String?
    @Flag(name: .customLong("trust-signer"), help: "With --subject, when no signer is declared for the model: declare this signature's signer trusted for it (audited) and record the pass.")
    var trustSigner = false

    func run() async throws {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let signaturePath = signature ?? root.appending(path: "model.sig").path
        guard let bundleData = FileManager.default.contents(atPath: signaturePath) else {
            throw CommandFailure(message: "--signature: \(signaturePath) cannot be read")
        }
        let bundle: ModelSigningBundle
        switch ModelSigningBundle.read(bundleData, file: signaturePath) {
        case .success(let b): bundle = b
        case .failure(let problems): throw problems
        }
        var pem: String?
        if let publicKey {
            guard let data = FileManager.default.contents(atPath: publicKey) else { throw CommandFailure(message: "--public-key: \(publicKey) cannot be read") }
            pem = String(decoding: data, as: UTF8.self)
        }
        let ignored = Set(bundle.ignorePaths + ignorePaths.map { FileDigests.relative($0, to: root) } + [FileDigests.relative(signaturePath, to: root)])
        let files = try FileDigests.under(root, ignoring: ignored)
        let check: ModelSignatureCheck
        if let trustedRoot {
            guard pem == nil, certificateChain.isEmpty else { throw CommandFailure(message: "--trusted-root verifies a keyless bundle; --public-key and --certificate-chain are for other bundles") }
            guard let identity, let identityProvider else {
                throw CommandFailure(message: "--trusted-root needs --identity and --identity-provider: anyone can get a certificate from a public authority, so the signer must be named")
            }
            let root = try SigstoreTrustedRoot.read(try readInputFile(trustedRoot), file: trustedRoot).get()
            check = await ModelSignatureCheck.check(bundle, trustedRoot: root, identity: identity, issuer: identityProvider, files: files)
        } else if !certificateChain.isEmpty {
            guard pem == nil else { throw CommandFailure(message: "--public-key and --certificate-chain: give one or the other") }
            var trusted = ""
            for path in certificateChain {
                guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "--certificate-chain: \(path) cannot be read") }
                trusted += String(decoding: data, as: UTF8.self) + "\n"
            }
            check = await ModelSignatureCheck.check(bundle, trusting: trusted, at: SleeperClock.now(), files: files)
        } else {
            check = ModelSignatureCheck.check(bundle, publicKeyPEM: pem, files: files)
        }
        Output.print(Self.report(check, bundle: bundle, directory: directory))

        if let subjectText = subject {
            guard let target = Subject(subjectText), target.kind == .model else {
                throw CommandFailure(message: "--subject: '\(subjectText)' is not model:KEY")
            }
            if case .notVerified(let why) = check.signature {
                throw CommandFailure(message: "signature present, not verified (\(why)); nothing was recorded")
            }
            let (verdict, records, rescore) = try await connection.withDatabase { db in
                // Bound by the ledger, in the same transaction: refused unless it is the model's digest.
                try await ScoredChanges(db).recordSignature(
                    check, subject: target, bundleName: URL(fileURLWithPath: signaturePath).lastPathComponent,
                    bundleData: bundleData, summary: Self.summary(check), pinSigner: trustSigner,
                    by: by, actor: AuditLog.commandLineActor)
            }
            switch verdict {
            case .undeclared(let signer):
                throw CommandFailure(
                    message: "the signature is valid, signed by \(signer), but no signer is declared for model:\(target.key) or its supplier, so nothing was recorded: "
                        + "give --trust-signer to pin this signer (audited), or declare one with `sleeper signers trust`")
            case .recorded(let result, _):
                if let rescore { Output.report(rescore) }
                Output.print(records.map { "recorded evidence #\($0.id): SLP-SIGNATURE \($0.result.rawValue) for model:\(target.key)" }.joined(separator: "\n") + "\n")
                if result == .fail { throw ExitCode(1) }
            }
        }
        if !check.verified { throw ExitCode(1) }
    }

    static func summary(_ c: ModelSignatureCheck) -> String {
        switch c.signature {
        case .valid(let how) where c.verified: return "verified (ECDSA \(how)), \(c.files) file(s), subject sha256:\(c.subjectDigest)"
        case .valid: return "the signature is valid but the files are not those signed"
        case .invalid(let why): return "not verified: \(why)"
        case .notVerified(let why): return "signature present, not verified: \(why)"
        }
    }

    static func report(_ c: ModelSignatureCheck, bundle: ModelSigningBundle, directory: String) -> String {
        var lines = ["\(directory): \(summary(c))"]
        if let signer = c.signer { lines.append("  signed by: \(signer)") }
        if !c.manifestConsistent { lines.append("  the statement's subject digest is not the digest of the files it lists (a forged statement)") }
        lines += c.changed.map { "  changed: \($0)" } + c.missing.map { "  missing: \($0)" } + c.extra.map { "  not signed: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
