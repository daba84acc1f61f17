import Foundation

/// What a model or an agent puts at risk: its own likelihood and every credential downstream of it,
/// through lineage, use and delegation.
public struct BlastRadius: Sendable {
    public struct Exposed: Sendable {
        public var credential: String
        public var score: Int
        public var band: Band
        public var via: String  // the holder the risk reaches the credential through
        /// P·I·H before the cap: orders credentials that all score 100.
        public var raw: Double = 0
    }

    public var subject: String
    /// L0, L, L* for a model; B, A for an agent.
    public var likelihoods: [(name: String, value: Double)]
    public var factors: [ScoringEngine.Factor]
    public var downstreamModels: [String]
    public var downstreamAgents: [String]
    public var credentials: [Exposed]
    /// For a model: how L0 became L (each control's evidence, a failed scan) and L became L*
    /// (each parent and dataset), and the main factor, each as one line.
    public var steps: [String] = []

    public func text() -> String {
        var out = "\(subject)  " + likelihoods.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: " · ") + "\n"
        for f in factors { out += "  factor \(f.name) = \(String(format: "%.2f", f.value))\n" }
        for step in steps { out += "  \(step)\n" }
        if !downstreamModels.isEmpty { out += "  models derived from it: \(downstreamModels.joined(separator: ", "))\n" }
        out += "  agents it reaches: \(downstreamAgents.isEmpty ? "none" : downstreamAgents.joined(separator: ", "))\n"
        out += "  blast radius: \(credentials.count) credential(s)\n"
        for c in credentials { out += "    \(c.credential)  \(c.score) (\(c.band)) via \(c.via)\n" }
        return out
    }

    /// Stable fields: subject, likelihoods, factors, downstream_models, downstream_agents, credentials.
    public func json() -> String {
        JSONValue.obj([
            ("subject", .string(subject)),
            ("likelihoods", .object(likelihoods.map { ($0.name, .number($0.value)) })),
            ("factors", .array(factors.map { .obj([("name", .string($0.name)), ("value", .number($0.value))]) })),
            ("downstream_models", .array(downstreamModels.map(JSONValue.string))),
            ("downstream_agents", .array(downstreamAgents.map(JSONValue.string))),
            ("steps", .array(steps.map(JSONValue.string))),
            (
                "credentials",
                .array(
                    credentials.map {
                        .obj([("credential", .string($0.credential)), ("score", .int($0.score)), ("band", .string($0.band.rawValue)), ("via", .string($0.via))])
                    })
            ),
        ]).pretty()
    }
}

extension ScoringEngine {
    public func blastRadius(model index: Int, input: ScoringInput, result: Result) -> BlastRadius {
        var children: [Int: [Int]] = [:]
        for (i, m) in input.models.enumerated() { for p in m.parents { children[p.model, default: []].append(i) } }
        var models: Set<Int> = [index], frontier = [index]
        while let m = frontier.popLast() { for c in children[m] ?? [] where models.insert(c).inserted { frontier.append(c) } }
        let agents = input.agents.indices.filter { !Set(input.agents[$0].models).isDisjoint(with: models) }
        let score = result.models[index]
        var radius = BlastRadius(
            subject: "model:\(input.models[index].key)",
            likelihoods: [("L0", score.l0), ("L", score.l), ("L*", score.lStar)], factors: score.factors,
            downstreamModels: models.subtracting([index]).map { input.models[$0].key }.sorted(),
            downstreamAgents: downstreamAgents(of: agents, input: input).map { input.agents[$0].key }.sorted(),
            credentials: exposed(from: downstreamAgents(of: agents, input: input), input: input, result: result))
        radius.steps = likelihoodSteps(model: index, input: input, result: result)
        return radius
    }

    /// L0 → L: each model control's effect at its validity, the floor, a failed scan. L → L*:
    /// each parent's and dataset's survival factor. Then the main factor.
    func likelihoodSteps(model index: Int, input: ScoringInput, result: Result) -> [String] {
        let m = input.models[index], score = result.models[index]
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        func evidence(_ state: ScoringInput.ControlState?) -> String { state?.evidenceID.map { ", evidence #\($0)" } ?? "" }
        var out: [String] = []
        for (factor, controls) in weights.factorControls.sorted(by: { $0.key < $1.key }) where score.factors.contains(where: { $0.name == factor }) {
            for (control, effect) in controls.sorted(by: { $0.key < $1.key }) {
                let state = m.controls[control], validity = state?.validity ?? 0
                out.append("L0: \(factor) × \(f(1 - effect * validity)) by \(control) (effect \(effect) × validity \(f(validity))\(state?.failed == true ? ", failed" : "")\(evidence(state)))")
            }
        }
        for control in weights.modelControlEffects.keys.sorted() {
            let effect = weights.modelControlEffects[control] ?? 0, state = m.controls[control]
            let validity = state?.validity ?? 0
            out.append("L0 → L: \(control) × \(f(1 - effect * validity)) (effect \(effect) × validity \(f(validity))\(state?.failed == true ? ", failed" : "")\(evidence(state)))")
        }
        out.append("L0 → L: at least \(weights.modelFloor) × L0 (the floor no evidence goes below)")
        for control in score.failedControls {
            let id = m.controls[control]?.citation ?? ""
            out.append("L0 → L: \(weights.failedWords[control] ?? "failed \(control)")\(id) holds L at \(weights.failedControls[control] ?? 0) or more")
        }
        if let recall = m.recall { out.append("L0 → L: recalled (recall #\(recall)): counted as compromised, L = 1") }
        out.append("L = \(f(score.l))")
        for p in m.parents {
            let t = weights.relationTransfer[p.relation]
            out.append(
                "L → L*: parent \(input.models[p.model].key) (\(p.relation.rawValue), transfer \(t) × L* \(f(result.models[p.model].lStar))): survival × \(f(1 - t * result.models[p.model].lStar))")
        }
        for d in m.datasets {
            let risk = weights.risk(of: input.datasets[d])
            let dataset = input.datasets[d]
            let held =
                dataset.failedControl.map { c in
                    ", held at \(weights.datasetFailedControls[c] ?? 0) by \(weights.datasetFailedWords[c] ?? "failed \(c)")\(dataset.failedEvidence.map { " (evidence #\($0))" } ?? "")"
                } ?? ""
            let provenance = dataset.recall.map { "recalled, recall #\($0)" } ?? dataset.provenance.rawValue + held
            out.append("L → L*: dataset \(input.datasets[d].key) (\(provenance), weight \(weights.datasetWeight) × risk \(risk)): survival × \(f(1 - weights.datasetWeight * risk))")
        }
        out.append("L* = 1 − (1 − L) × the survivals above = \(f(score.lStar))")
        out.append("main factor: \(ScoreExplanation.mainFactor(model: index, input: input, result: result, weights: weights))")
        return out
    }

    public func blastRadius(agent index: Int, input: ScoringInput, result: Result) -> BlastRadius {
        let agents = downstreamAgents(of: [index], input: input)
        return BlastRadius(
            subject: "agent:\(input.agents[index].key)",
            likelihoods: [("B", result.agentB[index]), ("A", result.agentA[index])], factors: [],
            downstreamModels: [], downstreamAgents: agents.filter { $0 != index }.map { input.agents[$0].key }.sorted(),
            credentials: exposed(from: agents, input: input, result: result))
    }

    /// The agents and everything they delegate to, within the delegation rounds.
    func downstreamAgents(of start: [Int], input: ScoringInput) -> [Int] {
        var delegates: [Int: [Int]] = [:]
        for (i, a) in input.agents.enumerated() { for u in a.delegators { delegates[u, default: []].append(i) } }
        var seen = Set(start), frontier = start
        for _ in 0..<max(0, weights.delegationRounds) {
            frontier = frontier.flatMap { delegates[$0] ?? [] }.filter { seen.insert($0).inserted }
        }
        return seen.sorted()
    }

    func exposed(from agents: [Int], input: ScoringInput, result: Result) -> [BlastRadius.Exposed] {
        let set = Set(agents)
        var out: [BlastRadius.Exposed] = []
        for (i, c) in input.credentials.enumerated() {
            guard let holder = c.holders.first(where: { set.contains($0.agent) }) else { continue }
            out.append(
                .init(
                    credential: c.key, score: result.credentials[i].score, band: result.credentials[i].band, via: input.agents[holder.agent].key,
                    raw: result.credentials[i].raw))
        }
        return out.sorted { ($0.score, $0.raw, $1.credential) > ($1.score, $1.raw, $0.credential) }
    }
}
