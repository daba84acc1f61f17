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
}
