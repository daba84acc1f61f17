import Foundation

/// What a model or an agent puts at risk: its own likelihood and every credential downstream of it,
/// through lineage, use and delegation.
public struct BlastRadius: Sendable {
    public struct Exposed: Sendable {
        public var credential: String
        public var score: Int
        public var band: String
        public var via: String              // the holder the risk reaches the credential through
    }

    public var subject: String
    /// L0, L, L* for a model; B, A for an agent.
    public var likelihoods: [(name: String, value: Double)]
    public var factors: [ScoringEngine.Factor]
    public var downstreamModels: [String]
    public var downstreamAgents: [String]
    public var credentials: [Exposed]

    public func text() -> String {
        var out = "\(subject)  " + likelihoods.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: " · ") + "\n"
        for f in factors { out += "  factor \(f.name) = \(String(format: "%.2f", f.value))\n" }
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
            ("credentials", .array(credentials.map {
                .obj([("credential", .string($0.credential)), ("score", .int($0.score)), ("band", .string($0.band)), ("via", .string($0.via))])
            })),
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
        return BlastRadius(subject: "model:\(input.models[index].key)",
                           likelihoods: [("L0", score.l0), ("L", score.l), ("L*", score.lStar)], factors: score.factors,
                           downstreamModels: models.subtracting([index]).map { input.models[$0].key }.sorted(),
                           downstreamAgents: downstreamAgents(of: agents, input: input).map { input.agents[$0].key }.sorted(),
                           credentials: exposed(from: downstreamAgents(of: agents, input: input), input: input, result: result))
    }

    public func blastRadius(agent index: Int, input: ScoringInput, result: Result) -> BlastRadius {
        let agents = downstreamAgents(of: [index], input: input)
        return BlastRadius(subject: "agent:\(input.agents[index].key)",
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
            out.append(.init(credential: c.key, score: result.credentials[i].score, band: result.credentials[i].band, via: input.agents[holder.agent].key))
        }
        return out.sorted { ($0.score, $1.credential) > ($1.score, $0.credential) }
    }
}
