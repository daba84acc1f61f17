import ArgumentParser
import Crypto
import Foundation
import SleeperCore
import SleeperStore

enum ExportFormat: String, CaseIterable, ExpressibleByArgument {
    case oscalAR = "oscal-ar", oscalPOAM = "oscal-poam", oscalMapping = "oscal-mapping", csv, json

    var fileName: String {
        switch self {
        case .oscalAR: return "assessment-results.json"
        case .oscalPOAM: return "poam.json"
        case .oscalMapping: return "mapping.json"
        case .csv: return "controls.csv"
        case .json: return "controls.json"
        }
    }

    func render(_ snapshot: ComplianceSnapshot, framework: String?) -> String {
        switch self {
        case .oscalAR: return AssessmentResultsExport.render(snapshot, framework: framework)
        case .oscalPOAM: return PlanOfActionExport.render(snapshot, framework: framework)
        case .oscalMapping: return MappingExport.render(snapshot.catalog, asOf: snapshot.asOf, framework: framework)
        case .csv: return ComplianceTable.csv(snapshot, framework: framework)
        case .json: return ComplianceTable.json(snapshot, framework: framework)
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export compliance evidence: OSCAL assessment results, POA&M or mapping, CSV or JSON; optionally as a signed bundle.",
        discussion: HelpText.discussion("The same state and --as-of give the same bytes: UUIDs are derived from content (v5).", "export"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "oscal-ar, oscal-poam, oscal-mapping, csv or json.") var format: ExportFormat
    @Option(help: "Only this framework (atlas, owasp-agentic, nist-ai-rmf, owasp-nhi, owasp-llm).") var framework: String?
    @Option(
        name: .customLong("as-of"), help: "Export the state as of this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time, e.g. 2026-09-30 or 2026-09-30T12:00:00Z. Default: now.")
    var asOf: String?
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @OptionGroup var signed: BundleOptions
    @OptionGroup var evidence: BasisOption
    @Flag(help: "Export even when the ledgers do not verify, marked as such in the document's metadata (never with --bundle or csv).") var allowUnverified = false

    func run() async throws {
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        try signed.checkTarget(allowUnverified: allowUnverified)
        if allowUnverified, format == .csv { throw CommandFailure(message: "--allow-unverified: CSV has no place for the banner; use json or an OSCAL format") }
        let progress = ProgressLine()
        defer { progress.finish() }
        progress.update("reading every control status and the ledger (export \(format.rawValue))")
        let (snapshot, framework) = try await connection.withDatabase { db in
            var framework: String?
            if let asked = self.framework { framework = try await ReferenceLookup(db).framework(asked) }
            // The assessment results and the mapping need counts, not every status, and the CSV the
            // unrecorded subjects' keys, not their statuses (see `countingUnrecorded`).
            let snapshot = try await ComplianceSnapshotLoader(db).load(
                asOf: date, allowUnverified: allowUnverified, basis: evidence.basis,
                countingUnrecorded: [.oscalAR, .oscalMapping, .csv].contains(format),
                keepingUnrecordedKeys: format == .csv)
            try await AuditLog(db).record(
                actor: AuditLog.commandLineActor, action: "export.\(format.rawValue)", target: signed.bundle ?? out,
                detail: snapshot.auditDetail(framework: framework))
            return (snapshot, framework)
        }
        progress.update("writing the \(format.rawValue) export")
        if let banner = snapshot.unverifiedBanner { Output.error("warning: \(banner)") }
        // CSV and the POA&M go out as they are made: at a million credentials each is gigabytes.
        if signed.bundle == nil, format == .csv || format == .oscalPOAM {
            try stream(to: out) { emit in
                if format == .csv { ComplianceTable.csv(snapshot, framework: framework, emit) } else { PlanOfActionExport.render(snapshot, framework: framework, emit) }
            }
            return
        }
        let text = format.render(snapshot, framework: framework)
        if let message = try signed.write([format.fileName: Data(text.utf8)], snapshot: snapshot) {
            Output.print(message + "\n")
        } else if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw CommandFailure(message: "\(out): cannot be written (\(error.localizedDescription))")
            }
            Output.print("wrote \(format.rawValue) to \(out)\n")
        } else {
            Output.print(text)
        }
    }
}

extension ExportCommand {
    /// Writes pieces to the file, or to standard output, as `produce` makes them.
    func stream(to out: String?, _ produce: ((String) -> Void) -> Void) throws {
        if out == nil, Invocation.current?.output != nil { return produce { Output.print($0) } }
        let handle: FileHandle
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                throw CommandFailure(message: "\(out): cannot be written")
            }
            handle = h
        } else {
            handle = FileHandle.standardOutput
        }
        var failed: Error?
        produce { piece in
            guard failed == nil else { return }
            do { try handle.write(contentsOf: Data(piece.utf8)) } catch { failed = error }
        }
        if let failed {
            if out == nil { Foundation.exit(0) }  // a closed pipe, as with `| head`
            throw CommandFailure(message: "\(out!): cannot be written (\(failed.localizedDescription))")
        }
        if let out {
            try? handle.close()
            Output.print("wrote \(format.rawValue) to \(out)\n")
        }
    }
}

struct VerifyBundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check a signed bundle: the signature over its manifest and every file's SHA-256; name what changed and exit 1.", discussion: HelpText.discussion("verify-bundle"))
    @Argument(help: "The bundle directory.") var directory: String
    @Option(help: "The signer's public key file; without it the bundle's own key is used, which proves integrity but not who signed.") var key: String?

    func run() async throws {
        let trusted = try key.map { try SigningKeys.loadPublic($0) }
        let files = try BundleDirectory.read(directory)
        let result = EvidenceBundle.verify(files: files, trusted: trusted)
        guard result.problems.isEmpty else {
            throw CommandFailure(message: "\(directory) does not verify:\n  " + result.problems.joined(separator: "\n  "))
        }
        Output.print(
            "\(directory) verifies: \(result.files) files, signed by \(result.signingKey)"
                + (trusted == nil ? " (the bundle's own key; pass --key to check the signer)\n" : " (trusted key)\n"))
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the Ed25519 key that signs evidence bundles.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a signing key (private file readable by you only) and its public key; the audit log records its fingerprint.", discussion: HelpText.discussion("keys create"))
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Private key path (default: $SLEEPER_HOME/keys/signing.ed25519); the public key goes next to it with .pub.") var out: String?
        @Flag(help: "Replace an existing key.") var force = false

        func run() async throws {
            let path = out ?? SigningKeys.defaultPath
            let key = try SigningKeys.create(at: path, force: force)
            try await connection.withDatabase { db in
                try await AuditLog(db).record(
                    actor: AuditLog.commandLineActor, action: "key.create", target: EvidenceBundle.fingerprint(key.publicKey),
                    detail: ["path": path, "replaced": String(force)])
            }
            Output.print("created \(path) and \(path).pub (\(EvidenceBundle.fingerprint(key.publicKey)))\n")
        }
    }
}
