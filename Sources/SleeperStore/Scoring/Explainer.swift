import Foundation
import SleeperCore

/// `explain` for the CLI and the API: a credential's explanation with exact what-if scores, or a
/// model's or agent's likelihoods and blast radius.
public struct Explainer: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public enum Answer: Sendable {
        case credential(ScoreExplanation)
        case radius(BlastRadius)

        public func text() -> String {
            switch self {
            case .credential(let e): ExplanationRenderer.text(e);
            case .radius(let r): r.text()
            }
        }
        public func json() -> String {
            switch self {
            case .credential(let e): ExplanationRenderer.json(e);
            case .radius(let r): r.json()
            }
        }
    }

    /// Explanations of several credentials (unknown keys are left out), from one load of what lies
    /// upstream of them: their scores there equal their scores in the whole estate.
    public func explain(credentials keys: [String], asOf: Date) async throws -> [String: ScoreExplanation] {
        let weights = try ScoreRuns.bundledWeights()
        let engine = ScoringEngine(weights: weights)
        let loader = ScoringInputLoader(db)
        let scope = try await loader.upstreamScope(credentialKeys: keys)
        guard !scope.credentials.isEmpty else { return [:] }
        let (input, _) = try await loader.load(asOf: asOf, weights: weights, scope: scope)
        let result = try engine.score(input)
        let mappings = Dictionary(grouping: try await CatalogQueries(db).mappings(), by: \.control).mapValues { $0.map { "\($0.framework):\($0.item)" } }
        var out: [String: ScoreExplanation] = [:]
        for (i, c) in input.credentials.enumerated() where keys.contains(c.key) {
            out[c.key] = try engine.explain(credential: i, input: input, result: result, mappings: mappings)
        }
        return out
    }

    /// Throws `StoreError.invalidInput` for a dataset or an unknown key, with the reason.
    public func explain(_ subject: Subject, asOf: Date) async throws -> Answer {
        guard subject.kind != .dataset else { throw StoreError.invalidInput("'\(subject)' is not credential:KEY, model:KEY or agent:KEY") }
        let weights = try ScoreRuns.bundledWeights()
        let engine = ScoringEngine(weights: weights)
        let loader = ScoringInputLoader(db)
        if subject.kind == .credential {
            guard let explanation = try await explain(credentials: [subject.key], asOf: asOf)[subject.key] else {
                throw StoreError.invalidInput("unknown credential '\(subject.key)'")
            }
            return .credential(explanation)
        }
        // A model's or agent's blast radius: what lies downstream of it, and the upstream of that.
        let (input, _) = try await loader.load(asOf: asOf, weights: weights, scope: try await loader.downstreamScope(of: subject))
        let result = try engine.score(input)
        switch subject.kind {
        case .model:
            guard let i = input.models.firstIndex(where: { $0.key == subject.key }) else { throw StoreError.invalidInput("unknown model '\(subject.key)'") }
            return .radius(engine.blastRadius(model: i, input: input, result: result))
        default:
            guard let i = input.agents.firstIndex(where: { $0.key == subject.key }) else { throw StoreError.invalidInput("unknown agent '\(subject.key)'") }
            return .radius(engine.blastRadius(agent: i, input: input, result: result))
        }
    }
}
