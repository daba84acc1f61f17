import Foundation
import SleeperCore
import Testing

/// Weights keyed by a closed set have one for every value, and no key that is not one.
@Suite("Weights keyed by closed sets", .timeLimit(.minutes(2)))
struct EnumWeightsTests {
    static var shipped: String {
        get throws { try String(contentsOf: ShippedCatalog.root.appending(path: "Controls/scoring.yaml"), encoding: .utf8) }
    }

    @Test("the shipped weights give every relation, provenance, input trust, delivery, tier, action and model factor a weight")
    func shippedAreTotal() throws {
        let weights = try ScoringWeights.read(Data(try Self.shipped.utf8)).get()
        #expect(DerivationRelation.allCases.allSatisfy { weights.relationTransfer[$0] > 0 })
        #expect(ResourceTier.allCases.allSatisfy { weights.tierCriticality[$0] > 0 })
        #expect(ModelFactor.allCases.allSatisfy { weights.modelFactors[$0] > 0 })
        #expect(weights.unsafeSerializations.contains(.pickle))
    }

    @Test("a misspelt key is refused with the value meant, and the value it left without a weight is named")
    func misspeltKeyRefused() throws {
        let text = try Self.shipped.replacingOccurrences(of: "relation_transfer: {quantized: 1.0, adapter:", with: "relation_transfer: {quantized: 1.0, adaptor:")
        try #require(text != (try Self.shipped), "the shipped file's relation_transfer names adapter")
        guard case .failure(let problems) = ScoringWeights.read(Data(text.utf8)) else {
            Issue.record("a weights file with 'adaptor' was read")
            return
        }
        let said = problems.problems.map { "\($0.path): \($0.message)" }
        #expect(said.contains { $0.hasSuffix("relation_transfer.adaptor: 'adaptor' is not one of adapter, distill, finetune, merge, quantized, unknown; did you mean 'adapter'?") }, "\(said)")
        #expect(said.contains { $0.hasSuffix("relation_transfer.adapter: is required") }, "\(said)")
    }
}
