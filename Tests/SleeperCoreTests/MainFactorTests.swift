import Foundation
import SleeperCore
import Testing

/// The main factor of a model is the term with the largest share of its L*: its own factors (a
/// failed scan first), a parent, or a dataset.
@Suite("Main factor", .timeLimit(.minutes(2)))
struct MainFactorTests {
    static let weights = ScoringEngineTests.weights
    static func main(_ input: ScoringInput, _ model: Int) throws -> String {
        let result = try ScoringEngine(weights: weights).score(input)
        return ScoreExplanation.mainFactor(model: model, input: input, result: result, weights: weights)
    }

    static func estate(child: ScoringInput.Model, parent: ScoringInput.Model, datasets: [ScoringInput.Dataset] = []) -> ScoringInput {
        var input = ScoringEngineTests.workedExample()
        input.models = [parent, child]
        input.datasets = datasets
        return input
    }

    @Test("an unsigned vendor fine-tune's own risk outweighs what it inherits, even when L* exceeds L by more than 0.05")
    func ownRiskDominates() throws {
        let parent = ScoringInput.Model(
            key: "base", supplier: "meta", thirdParty: true, lineageVerified: true, trainingDataDeclared: true,
            hasDigest: true, signed: true, serialization: .safetensors)
        let child = ScoringInput.Model(
            key: "vendor-ft", supplier: "acme", thirdParty: true, lineageVerified: false, trainingDataDeclared: false,
            hasDigest: false, signed: false, serialization: .pickle, parents: [(0, .finetune)])
        let input = Self.estate(child: child, parent: parent)
        let result = try ScoringEngine(weights: Self.weights).score(input)
        #expect(result.models[1].lStar > result.models[1].l + 0.05, "the old rule would have blamed the parent")
        #expect(try Self.main(input, 1) == "third party not allowed on vendor-ft")
    }

    @Test("a failed scan is named with its evidence, on the model and inherited into what derives from it")
    func failedScanNamed() throws {
        var parent = ScoringInput.Model(
            key: "base", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true,
            serialization: .safetensors)
        parent.controls["SLP-BACKDOOR-SCAN"] = ScoringInput.ControlState(validity: 0, evidenceID: 42, failed: true)
        let child = ScoringInput.Model(
            key: "quantized", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true,
            serialization: .gguf, parents: [(0, .quantized)])
        let input = Self.estate(child: child, parent: parent)
        #expect(try Self.main(input, 0) == "failed backdoor scan on base (evidence #42)")
        #expect(try Self.main(input, 1) == "failed backdoor scan on base (evidence #42), inherited (quantized) into quantized")
        let diff = ScoreDiff.reasons(
            before: .init(score: 40, p: 0.4, hygiene: 1, model: "quantized", agent: "a", main: "inherits from base (quantized) into quantized", hygieneTerms: []),
            after: .init(score: 90, p: 0.9, hygiene: 1, model: "quantized", agent: "a", main: try Self.main(input, 1), hygieneTerms: []))
        #expect(diff.first == "new failed backdoor scan on base (evidence #42), inherited (quantized) into quantized")
    }

    @Test("a failed red-team is named only when its minimum is what holds L; a malicious serialization finding like a failed backdoor scan")
    func failedChecksNamedWhenTheyHold() throws {
        let parent = ScoringInput.Model(key: "base", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .safetensors)
        var clean = ScoringInput.Model(key: "clean", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .pickle)
        clean.controls["SLP-REDTEAM"] = ScoringInput.ControlState(validity: 0, evidenceID: 7, failed: true)
        #expect(try Self.main(Self.estate(child: clean, parent: parent), 1) == "failed red-team on clean (evidence #7)")
        var risky = ScoringInput.Model(
            key: "risky", supplier: "acme", thirdParty: true, lineageVerified: false, trainingDataDeclared: false,
            hasDigest: false, signed: false, serialization: .pickle)
        risky.controls["SLP-REDTEAM"] = ScoringInput.ControlState(validity: 0, evidenceID: 7, failed: true)
        let input = Self.estate(child: risky, parent: parent)
        let result = try ScoringEngine(weights: Self.weights).score(input)
        #expect(result.models[1].l > 0.5 && result.models[1].failedControls == ["SLP-REDTEAM"])
        #expect(try Self.main(input, 1) == "third party not allowed on risky", "L is above the red-team's minimum without it")
        risky.controls["SLP-SERIALIZATION-SCAN"] = ScoringInput.ControlState(validity: 0, evidenceID: 9, failed: true)
        let both = Self.estate(child: risky, parent: parent)
        #expect(try ScoringEngine(weights: Self.weights).score(both).models[1].l == 0.9)
        #expect(try Self.main(both, 1) == "failed serialization scan on risky (evidence #9)")
    }

    @Test("a clean serialization scan lowers the unsafe-serialization factor by its effect and validity, and nothing else")
    func serializationScanLowersItsFactor() throws {
        let parent = ScoringInput.Model(key: "base", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .safetensors)
        var pickled = ScoringInput.Model(key: "pickled", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .pickle)
        let before = try ScoringEngine(weights: Self.weights).score(Self.estate(child: pickled, parent: parent)).models[1]
        #expect(abs(before.l0 - 0.15) < 1e-12)
        pickled.controls["SLP-SERIALIZATION-SCAN"] = ScoringInput.ControlState(validity: 0.5, evidenceID: 3)
        let after = try ScoringEngine(weights: Self.weights).score(Self.estate(child: pickled, parent: parent)).models[1]
        #expect(abs(after.l0 - 0.15 * (1 - 0.8 * 0.5)) < 1e-12)
        var safe = ScoringInput.Model(key: "safe", lineageVerified: false, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .safetensors)
        let safeBefore = try ScoringEngine(weights: Self.weights).score(Self.estate(child: safe, parent: parent)).models[1].l0
        safe.controls["SLP-SERIALIZATION-SCAN"] = ScoringInput.ControlState(validity: 1, evidenceID: 4)
        #expect(try ScoringEngine(weights: Self.weights).score(Self.estate(child: safe, parent: parent)).models[1].l0 == safeBefore)
    }

    @Test("a dataset whose risk outweighs the rest is named")
    func datasetNamed() throws {
        let parent = ScoringInput.Model(key: "base", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .safetensors)
        var child = ScoringInput.Model(
            key: "tuned", lineageVerified: true, trainingDataDeclared: true, hasDigest: true, signed: true, serialization: .safetensors,
            parents: [(0, .distill)])
        child.datasets = [0]
        let input = Self.estate(child: child, parent: parent, datasets: [.init(key: "scraped", provenance: .publicScraped)])
        #expect(try Self.main(input, 1) == "dataset risk from scraped (public_scraped) into tuned")
    }
}
