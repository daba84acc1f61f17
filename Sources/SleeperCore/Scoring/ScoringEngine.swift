import Foundation

/// The backdoor exposure model, computed layer by layer: models (L0, L), lineage (L*), agents
/// (B, then A), credentials (P, I, H, score). Pure: the same input and weights give the same numbers.
public struct ScoringEngine: Sendable {
    public let weights: ScoringWeights
    public init(weights: ScoringWeights) { self.weights = weights }

    public struct ModelScore: Sendable, Equatable {
        public var l0: Double, l: Double, lStar: Double
        /// The risk factors present, with their probabilities.
        public var factors: [Factor]
        public var failedScan: Bool
    }

    public struct Factor: Sendable, Equatable {
        public var name: String
        public var value: Double
        public init(_ name: String, _ value: Double) {
            self.name = name
            self.value = value
        }
    }

    public struct CredentialScore: Sendable, Equatable {
        public var p: Double, impact: Double, hygiene: Double
        public var score: Int
        public var band: String
        public var impactCount: Int
        public var exposureCount: Int
        public var hygieneTerms: [Factor]
        /// model → agent → credential → resource with the largest contribution (indexes), if any.
        public var topModel: Int?, topAgent: Int?, topResource: Int?
    }

    public struct Result: Sendable {
        public var models: [ModelScore]
        public var agentB: [Double]
        public var agentA: [Double]
        public var credentials: [CredentialScore]
    }

    public func score(_ input: ScoringInput) throws -> Result {
        let models = try scoreModels(input)
        let (b, a) = scoreAgents(input, lStar: models.map(\.lStar))
        let upstreamModels = upstreamModelSets(input)
        let credentials = input.credentials.map { scoreCredential($0, input: input, models: models, agentA: a, upstreamModels: upstreamModels) }
        return Result(models: models, agentB: b, agentA: a, credentials: credentials)
    }

    // MARK: Models and lineage

    public struct LineageCycle: Error, CustomStringConvertible {
        public var models: [String]
        public var description: String { "lineage cycle: \((models + [models[0]]).joined(separator: " → "))" }
    }

    func modelFactors(_ m: ScoringInput.Model) -> [Factor] {
        let f = weights.modelFactors
        var out: [Factor] = []
        if m.thirdParty && !weights.supplierAllowList.contains(m.supplier ?? "") { out.append(Factor("third_party_not_allowed", f["third_party_not_allowed"]!)) }
        if !m.lineageVerified { out.append(Factor("lineage_unverified", f["lineage_unverified"]!)) }
        if !m.trainingDataDeclared { out.append(Factor("training_data_undeclared", f["training_data_undeclared"]!)) }
        if !m.hasDigest || !m.signed { out.append(Factor("unsigned_or_no_digest", f["unsigned_or_no_digest"]!)) }
        if weights.unsafeSerializations.contains(m.serialization) { out.append(Factor("unsafe_serialization", f["unsafe_serialization"]!)) }
        return out
    }

    public func scoreModels(_ input: ScoringInput) throws -> [ModelScore] {
        var edges: [Int: [Int]] = [:]
        for (i, m) in input.models.enumerated() { for p in m.parents { edges[p.model, default: []].append(i) } }
        let order: [Int]
        switch TopologicalOrder.sort(nodes: Array(input.models.indices), edges: edges) {
        case .ordered(let o): order = o
        case .cycle(let c): throw LineageCycle(models: c.map { input.models[$0].key })
        }
        var scores = [ModelScore](repeating: ModelScore(l0: 0, l: 0, lStar: 0, factors: [], failedScan: false), count: input.models.count)
        for i in order {
            let m = input.models[i]
            let factors = modelFactors(m)
            let l0 = 1 - factors.reduce(1.0) { $0 * (1 - $1.value) }
            var reduction = 1.0
            for (control, effect) in weights.modelControlEffects {
                reduction *= 1 - effect * (m.controls[control]?.validity ?? 0)
            }
            var l = max(l0 * reduction, weights.modelFloor * l0)
            let failed = m.controls[weights.failedScanControl]?.failed ?? false
            if failed { l = max(l, weights.failedScanMinimum) }
            var survive = 1 - l
            for p in m.parents { survive *= 1 - weights.relationTransfer[p.relation.rawValue]! * scores[p.model].lStar }
            for d in m.datasets { survive *= 1 - weights.datasetWeight * weights.datasetRisk[input.datasets[d].provenance.rawValue]! }
            scores[i] = ModelScore(l0: l0, l: l, lStar: 1 - survive, factors: factors, failedScan: failed)
        }
        return scores
    }

    // MARK: Agents

    /// B by a fixed number of rounds over delegation, so that cycles settle without looping.
    public func scoreAgents(_ input: ScoringInput, lStar: [Double]) -> (b: [Double], a: [Double]) {
        let own: [Double] = input.agents.map { agent in
            let r = weights.inputReach[agent.inputTrust.rawValue]!
            return agent.models.reduce(1.0) { $0 * (1 - r * lStar[$1]) }
        }
        var b = own.map { 1 - $0 }
        for _ in 0..<max(0, weights.delegationRounds) {
            var next = b
            for (i, agent) in input.agents.enumerated() where !agent.delegators.isEmpty {
                next[i] = 1 - agent.delegators.reduce(own[i]) { $0 * (1 - weights.upstreamWeight * b[$1]) }
            }
            b = next
        }
        let a = input.agents.enumerated().map { i, agent in
            weights.agentControlEffects.reduce(b[i]) { acc, entry in acc * (1 - entry.value * (agent.controls[entry.key]?.validity ?? 0)) }
        }
        return (b, a)
    }

    /// The models each agent is exposed to: its own and those of agents delegating to it, the same
    /// number of rounds as B.
    func upstreamModelSets(_ input: ScoringInput) -> [Set<Int>] {
        var sets = input.agents.map { Set($0.models) }
        for _ in 0..<max(0, weights.delegationRounds) {
            var next = sets
            for (i, agent) in input.agents.enumerated() { for u in agent.delegators { next[i].formUnion(sets[u]) } }
            sets = next
        }
        return sets
    }

    // MARK: Credentials

    func scoreCredential(_ c: ScoringInput.Credential, input: ScoringInput, models: [ModelScore], agentA: [Double],
                         upstreamModels: [Set<Int>]) -> CredentialScore {
        var survive = 1.0
        var topAgent: Int?, topContribution = -1.0
        for h in c.holders {
            let contribution = agentA[h.agent] * weights.delivery[h.delivery.rawValue]!
            survive *= 1 - contribution
            if contribution > topContribution { topContribution = contribution; topAgent = h.agent }
        }
        let p = 1 - survive
        var impact = 0.0, topResource: Int?
        var reached: Set<Int> = []
        for g in c.grants {
            let tier = input.resources[g.resource].tier.rawValue
            let value = weights.tierCriticality[tier]! * weights.actionWeight[g.action.rawValue]!
            if value > impact { impact = value; topResource = g.resource }
            if weights.impactTiers.contains(tier) { reached.insert(g.resource) }
        }
        let terms = hygieneTerms(c, asOf: input.asOf)
        let h = min(max(1 + terms.reduce(0) { $0 + $1.value }, weights.hygiene.clamp.lowerBound), weights.hygiene.clamp.upperBound)
        let score = Int((100 * min(1, p * impact * h)).rounded(.toNearestOrAwayFromZero))
        var exposure: Set<Int> = []
        for holder in c.holders { exposure.formUnion(upstreamModels[holder.agent].filter { models[$0].lStar > weights.exposureThreshold }) }
        let topModel = topAgent.flatMap { a in
            upstreamModels[a].max { lhs, rhs in (models[lhs].lStar, rhs) < (models[rhs].lStar, lhs) }
        }
        return CredentialScore(p: p, impact: impact, hygiene: h, score: score, band: weights.band(score), impactCount: reached.count,
                               exposureCount: exposure.count, hygieneTerms: terms, topModel: topModel, topAgent: topAgent, topResource: topResource)
    }

    /// The hygiene terms that hold for a credential, each with what it adds.
    public func hygieneTerms(_ c: ScoringInput.Credential, asOf: Date) -> [Factor] {
        let h = weights.hygiene
        func days(since date: Date?) -> Double? { date.map { asOf.timeIntervalSince($0) / 86400 } }
        var terms: [Factor] = []
        let shortLived = (c.ttlSeconds ?? Int.max) <= h.shortLivedMaxTTL
        // Rotation is a property of static secrets; a credential with a time-to-live is re-issued.
        if c.ttlSeconds == nil, (days(since: c.lastRotatedAt ?? c.createdAt) ?? .infinity) > h.notRotatedDays {
            terms.append(Factor("not_rotated", h.notRotated))
        }
        if c.expiresAt == nil && c.ttlSeconds == nil { terms.append(Factor("no_expiry", h.noExpiry)) }
        if let unused = days(since: c.lastUsedAt), unused > h.unusedDays { terms.append(Factor("unused", h.unused)) }
        if c.owner == nil { terms.append(Factor("no_owner", h.noOwner)) }
        if c.holders.count > 1 { terms.append(Factor("shared", h.shared)) }
        if c.exposed { terms.append(Factor("exposed", h.exposed)) }
        if shortLived { terms.append(Factor("short_lived", h.shortLived)) }
        if c.kind == .workloadIdentity || (!c.holders.isEmpty && c.holders.allSatisfy { $0.delivery == .federated }) {
            terms.append(Factor("federated", h.federated))
        }
        return terms
    }
}
