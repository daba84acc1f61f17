import Foundation
import SleeperCore
import Testing

@Suite("Top path", .timeLimit(.minutes(2)))
struct TopPathTests {
    @Test("a trigger that reaches the holder through a delegator shows the delegator in the path")
    func delegatedPath() throws {
        var input = ScoringEngineTests.workedExample()
        // A second agent uses the risky fine-tune and delegates to a holder that uses nothing itself.
        input.agents = [.init(key: "reader", inputTrust: .untrusted, models: [1]), .init(key: "payer", inputTrust: .internal, models: [], delegators: [0])]
        input.credentials[0].holders = [(1, .runtimeEnv)]
        let engine = ScoringEngineTests.engine
        let result = try engine.score(input)
        let s = result.credentials[0]
        #expect(s.topAgent == 1 && s.topModel == 1)
        #expect(s.topChain == [0, 1], "the path runs acme-ft → reader → payer, not acme-ft → payer")
        let explanation = try engine.explain(credential: 0, input: input, result: result, mappings: [:])
        #expect(explanation.paths.first?.agent == "reader → payer")
        #expect(explanation.paths.first?.isTop == true)
    }
}
