import Foundation
import SleeperCore
import Testing

/// Evidence files are as strict as inventory files: a misspelt field is refused with the field
/// meant, never read as "not given".
@Suite("Strict evidence files and cards", .timeLimit(.minutes(2)))
struct EvidenceFileStrictnessTests {
    @Test("effectve, expirse, notes and an artifact's sha are refused, each with the field meant; nothing is read")
    func misspeltFields() {
        let yaml = """
            - subject: model:m
              control: SLP-BACKDOOR-SCAN
              result: pass
              effectve: 2026-11-20
              expirse: 2027-01-01
              notes: scanned by hand
              artifacts: [{name: report.txt, sha: "\(String(repeating: "a", count: 64))"}]
            """
        let (drafts, problems) = EvidenceReader.read(Data(yaml.utf8), file: "evidence.yaml")
        let said = problems.map { "\($0.path): \($0.message)" }
        #expect(said.contains("[0].effectve: is not a field of an evidence record (did you mean 'effective'?)"), "\(said)")
        #expect(said.contains("[0].expirse: is not a field of an evidence record (did you mean 'expires'?)"), "\(said)")
        #expect(said.contains("[0].notes: is not a field of an evidence record (did you mean 'note'?)"), "\(said)")
        #expect(said.contains { $0.hasPrefix("[0].artifacts[0].sha: is not a field of an artifact") }, "\(said)")
        #expect(!problems.isEmpty && drafts.count <= 1)
        let good = EvidenceReader.read(Data("[{subject: model:m, control: SLP-BACKDOOR-SCAN, result: pass, effective: 2026-11-20, note: ok}]".utf8), file: "e.yaml")
        #expect(good.1.isEmpty && good.0.count == 1)
    }

    @Test("a card whose base_model is misspelt is refused with the field meant; its other fields (license, tags) are its own")
    func cardNearMiss() {
        let card = "---\nlicense: apache-2.0\ntags: [a]\nbase_modle: meta-llama/Llama-3-8B\n---\n# m\n"
        let parsed = HuggingFaceCardReader.read(Data(card.utf8), file: "m/README.md", source: nil)
        #expect(parsed.problems.map(\.message).contains("is not a field of a model card's front matter (did you mean 'base_model'? as written it would be ignored)"), "\(parsed.problems)")
        let fine = HuggingFaceCardReader.read(Data("---\nlicense: apache-2.0\ntags: [a]\nbase_model: meta-llama/Llama-3-8B\n---\n".utf8), file: "m/README.md", source: nil)
        #expect(fine.problems.isEmpty, "\(fine.problems)")
    }

    @Test("--lenient reads a misspelt field as a warning (not stored) and keeps the record")
    func lenientWarns() {
        let yaml = "[{subject: model:m, control: SLP-BACKDOOR-SCAN, result: pass, effective: 2026-11-20, notes: by hand}]"
        let strict = EvidenceReader.read(Data(yaml.utf8), file: "e.yaml", lenient: false)
        #expect(strict.problems.map(\.message) == ["is not a field of an evidence record (did you mean 'note'?)"] && strict.warnings.isEmpty)
        let lenient = EvidenceReader.read(Data(yaml.utf8), file: "e.yaml", lenient: true)
        #expect(lenient.problems.isEmpty && lenient.drafts.count == 1 && lenient.drafts[0].note == nil)
        #expect(lenient.warnings.map { "\($0.path): \($0.message)" } == ["[0].notes: is not a field of an evidence record (did you mean 'note'?)"])
    }

    @Test(
        "every source format refuses a misspelling of a field it reads, and leaves the format's other fields alone",
        arguments: [
            (SourceFormat.mcpConfig, #"{"mcpServers": {"pay": {"command": "npx", "cwd": "/srv", "envs": {"K": "${PAY_KEY}"}}}}"#, "mcpServers.pay.envs", "env"),
            (.kubernetes, #"{"items": [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "uid": "u", "namespce": "pay"}}]}"#, "items[0].metadata.namespce", "namespace"),
            (
                .entra, #"{"value": [{"appId": "a1", "tags": [], "passwordCredentials": [{"keyId": "k", "hint": "x", "endDatetime": "2027-01-01T00:00:00Z"}]}]}"#,
                "value[0].passwordCredentials[0].endDatetime", "endDateTime"
            ),
            (.githubTokens, #"[{"token_id": 1, "token_name": "n", "token_expire_at": "2027-01-01T00:00:00Z"}]"#, "[0].token_expire_at", "token_expires_at"),
            (
                .gcpServiceAccountKeys,
                #"{"keys": [{"name": "projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/k1", "keyAlgorithm": "KEY_ALG_RSA_2048", "validBeforTime": "2027-01-01T00:00:00Z"}]}"#,
                "keys[0].validBeforTime", "validBeforeTime"
            ),
            (
                .cyclonedx,
                #"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "machine-learning-model", "name": "m", "purl": "pkg:huggingface/m", "supplir": {"name": "acme"}}]}"#,
                "components[0].supplir", "supplier"
            ),
            (
                .spdx,
                #"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "ai_AIPackage", "spdxId": "urn:m", "name": "m", "creationInfo": "_:c", "suppliedby": "urn:acme"}]}"#,
                "@graph[0].suppliedby", "suppliedBy"
            ),
        ])
    func sourceNearMisses(format: SourceFormat, text: String, path: String, meant: String) {
        let parsed = EstateReader.read(Data(text.utf8), file: "source.json", format: format)
        let said = parsed.problems.map { "\($0.path): \($0.message)" }
        #expect(said.contains { $0.hasPrefix("\(path): is not a field of") && $0.contains("did you mean '\(meant)'?") }, "\(said)")
        #expect(said.count == 1, "only the misspelling is refused, not the format's other fields: \(said)")
    }
}
