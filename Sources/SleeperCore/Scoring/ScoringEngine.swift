import Foundation

/// The backdoor exposure model, computed layer by layer: models (L0, L), lineage (L*), agents
/// (B, then A), credentials (P, I, H, score). Pure: the same input and weights give the same numbers.
public struct ScoringEngine: Sendable {
    public let weights: ScoringWeights
    /// The credential layer's weights as arrays by enum position: a million credentials made
    /// several million string-keyed dictionary lookups.
    let deliveryWeight: [Double], actionWeight: [Double], tierWeight: [Double], impactTier: [Bool]

    public init(weights: ScoringWeights) {
        self.weights = weights
        var delivery = [Double](repeating: 0, count: 4), action = [Double](repeating: 0, count: 4)
        var tier = [Double](repeating: 0, count: 4), impact = [Bool](repeating: false, count: 4)
        for d in Delivery.allCases { delivery[d.position] = weights.delivery[d] }
        for a in GrantAction.allCases { action[a.position] = weights.actionWeight[a] }
        for t in ResourceTier.allCases {
            tier[t.rawValue] = weights.tierCriticality[t]
            impact[t.rawValue] = weights.impactTiers.contains(t.rawValue)
        }
        (deliveryWeight, actionWeight, tierWeight, impactTier) = (delivery, action, tier, impact)
    }

    public struct ModelScore: Sendable, Equatable {
        public var l0: Double, l: Double, lStar: Double
        /// The risk factors present, with their probabilities.
        public var factors: [Factor]
        /// The failed checks that hold L at a minimum (controls, sorted), and the highest minimum.
        public var failedControls: [String] = []
        public var failedMinimum: Double = 0
        /// Whether a failed check's minimum is what holds L (not the factors, which may already lie above it).
        public var heldByFailure = false
        public var failedScan: Bool { !failedControls.isEmpty }
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
        public var band: Band
        public var impactCount: Int
        public var exposureCount: Int
        public var hygieneTerms: [Factor]
        /// P·I·H before the cap: what orders credentials that all score 100, and what a what-if
        /// under the cap still lowers.
        public var raw: Double { p * impact * hygiene }
        /// model → agent → credential → resource with the largest contribution (indexes), if any.
        public var topModel: Int?, topAgent: Int?, topResource: Int?
        /// The agents from the one that uses `topModel` to the holder `topAgent`, along the
        /// delegation edges that carry the trigger: the real chain, never a shortcut.
        public var topChain: [Int] = []
    }

    public struct Result: Sendable {
        public var models: [ModelScore]
        public var agentB: [Double]
        public var agentA: [Double]
        public var credentials: [CredentialScore]
        /// B after each delegation round (round 0 is the agent's own models), kept so that an
        /// incremental run can reuse the rounds of agents a change does not reach.
        public var agentRounds: [[Double]]
    }

    public func score(_ input: ScoringInput) throws -> Result {
        let models = try scoreModels(input)
        let rounds = agentRounds(input, lStar: models.map(\.lStar))
        let a = gatedAgents(input, b: rounds.last!)
        let layer = CredentialLayer(input: input, models: models, agentA: a, upstreamModels: upstreamModelSets(input))
        let credentials = layer.scoreAll(input.credentials.indices, engine: self, input: input)
        return Result(models: models, agentB: rounds.last!, agentA: a, credentials: credentials, agentRounds: rounds)
    }

    /// What changed since `previous` was computed on an input with the same entities (same indexes)
    /// and the same as-of time: models, agents and credentials whose own data, edges or evidence changed.
    public struct Change: Sendable {
        public var models: Set<Int> = []
        public var agents: Set<Int> = []
        public var credentials: Set<Int> = []
        public init(models: Set<Int> = [], agents: Set<Int> = [], credentials: Set<Int> = []) {
            self.models = models
            self.agents = agents
            self.credentials = credentials
        }
    }

    public struct Affected: Sendable, Equatable {
        public var models: Set<Int>, agents: Set<Int>, credentials: Set<Int>
    }

    /// Everything downstream of a change: descendant models, the agents using them and those they
    /// delegate to (within the rounds), and the credentials those agents hold.
    public func affected(by change: Change, input: ScoringInput) -> Affected {
        var children: [Int: [Int]] = [:]
        for (i, m) in input.models.enumerated() { for p in m.parents { children[p.model, default: []].append(i) } }
        var models = change.models, frontier = Array(change.models)
        while let m = frontier.popLast() { for c in children[m] ?? [] where models.insert(c).inserted { frontier.append(c) } }
        let users = input.agents.indices.filter { !models.isDisjoint(with: input.agents[$0].models) }
        let agents = Set(downstreamAgents(of: Array(change.agents.union(users)), input: input))
        var credentials = change.credentials
        for (i, c) in input.credentials.enumerated() where c.holders.contains(where: { agents.contains($0.agent) }) { credentials.insert(i) }
        return Affected(models: models, agents: agents, credentials: credentials)
    }

    /// Recomputes only what lies downstream of `change`; the result equals a full run's exactly,
    /// because every recomputed value goes through the same arithmetic in the same order.
    public func rescore(_ input: ScoringInput, previous: Result, change: Change) throws -> (Result, Affected) {
        let affected = affected(by: change, input: input)
        var result = previous
        let fresh = try scoreModels(input, only: affected.models, previous: previous.models)
        result.models = fresh
        result.agentRounds = agentRounds(input, lStar: fresh.map(\.lStar), only: affected.agents, previous: previous.agentRounds)
        result.agentB = result.agentRounds.last!
        let gated = gatedAgents(input, b: result.agentB, only: affected.agents)
        for i in affected.agents { result.agentA[i] = gated[i] }
        // Upstream model sets only for the holders of affected credentials: a full pass over every
        // agent would cost more than the recomputation itself.
        var upstreamModels = [Set<Int>](repeating: [], count: input.agents.count)
        for i in affected.credentials {
            for h in input.credentials[i].holders where upstreamModels[h.agent].isEmpty {
                upstreamModels[h.agent] = Set(upstreamAgentClosure(of: [h.agent], input: input).flatMap { input.agents[$0].models })
            }
        }
        let layer = CredentialLayer(input: input, models: fresh, agentA: result.agentA, upstreamModels: upstreamModels)
        for i in affected.credentials { result.credentials[i] = scoreCredential(input.credentials[i], input: input, layer: layer) }
        return (result, affected)
    }

    // MARK: Models and lineage

    public struct LineageCycle: Error, CustomStringConvertible {
        public var models: [String]
        public var description: String { "lineage cycle: \((models + [models[0]]).joined(separator: " → "))" }
    }

    func modelFactors(_ m: ScoringInput.Model) -> [Factor] {
        let f = weights.modelFactors
        var out: [Factor] = []
        func factor(_ which: ModelFactor) -> Factor { Factor(which.rawValue, f[which]) }
        if m.thirdParty && m.declaredSupplier == nil && !weights.supplierAllowList.contains(m.supplier ?? "") { out.append(factor(.thirdPartyNotAllowed)) }
        if !m.lineageVerified { out.append(factor(.lineageUnverified)) }
        if !m.trainingDataDeclared { out.append(factor(.trainingDataUndeclared)) }
        if !m.hasDigest || !m.signed { out.append(factor(.unsignedOrNoDigest)) }
        if weights.unsafeSerializations.contains(m.serialization) { out.append(factor(.unsafeSerialization)) }
        // A factor's own controls lower it: p · Π (1 − e·v), in a fixed order.
        return out.map { factor in
            guard let controls = weights.factorControls[factor.name] else { return factor }
            var p = factor.value
            for control in controls.keys.sorted() { p *= 1 - (controls[control] ?? 0) * (m.controls[control]?.validity ?? 0) }
            return Factor(factor.name, p)
        }
    }

    public func scoreModels(_ input: ScoringInput, only: Set<Int>? = nil, previous: [ModelScore]? = nil) throws -> [ModelScore] {
        var edges: [Int: [Int]] = [:]
        for (i, m) in input.models.enumerated() { for p in m.parents { edges[p.model, default: []].append(i) } }
        let order: [Int]
        switch TopologicalOrder.sort(nodes: Array(input.models.indices), edges: edges) {
        case .ordered(let o): order = o
        case .cycle(let c): throw LineageCycle(models: c.map { input.models[$0].key })
        }
        var scores = previous ?? [ModelScore](repeating: ModelScore(l0: 0, l: 0, lStar: 0, factors: []), count: input.models.count)
        for i in order where only?.contains(i) ?? true {
            let m = input.models[i]
            if let carried = m.carriedLStar {
                scores[i] = ModelScore(l0: 0, l: 0, lStar: carried, factors: [])
                continue
            }
            let factors = modelFactors(m)
            let l0 = 1 - factors.reduce(1.0) { $0 * (1 - $1.value) }
            var reduction = 1.0
            // Sorted so that the floating-point product is the same on every run.
            for (control, effect) in weights.modelControlEffects.sorted(by: { $0.key < $1.key }) {
                reduction *= 1 - effect * (m.controls[control]?.validity ?? 0)
            }
            var l = max(l0 * reduction, weights.modelFloor * l0)
            let failed = weights.failedControls.keys.sorted().filter { m.controls[$0]?.failed ?? false }
            let minimum = failed.map { weights.failedControls[$0] ?? 0 }.max() ?? 0
            let held = !failed.isEmpty && minimum >= l - 1e-12
            l = max(l, minimum)
            // A recalled model is taken as compromised: certainty, whatever its evidence says.
            if m.recall != nil { l = 1 }
            var survive = 1 - l
            for p in m.parents { survive *= 1 - weights.relationTransfer[p.relation] * scores[p.model].lStar }
            for d in m.datasets { survive *= 1 - weights.datasetWeight * weights.risk(of: input.datasets[d]) }
            scores[i] = ModelScore(l0: l0, l: l, lStar: 1 - survive, factors: factors, failedControls: failed, failedMinimum: minimum, heldByFailure: held)
        }
        return scores
    }

    // MARK: Agents

    /// B by a fixed number of rounds over delegation, so that cycles settle without looping.
    public func scoreAgents(_ input: ScoringInput, lStar: [Double]) -> (b: [Double], a: [Double]) {
        let b = agentRounds(input, lStar: lStar).last!
        return (b, gatedAgents(input, b: b))
    }

    /// B after each round. With `only`, agents outside it keep their values from `previous`.
    func agentRounds(_ input: ScoringInput, lStar: [Double], only: Set<Int>? = nil, previous: [[Double]]? = nil) -> [[Double]] {
        let indices = only.map { Array($0).sorted() } ?? Array(input.agents.indices)
        var own = [Double](repeating: 1, count: input.agents.count)
        for i in indices {
            let agent = input.agents[i]
            let r = weights.inputReach[agent.inputTrust]
            // A recalled agent is taken as compromised: nothing of its own survives.
            own[i] = agent.recall != nil ? 0 : agent.models.reduce(1.0) { $0 * (1 - r * lStar[$1]) }
        }
        var b = previous?[0] ?? [Double](repeating: 0, count: input.agents.count)
        for i in indices { b[i] = 1 - own[i] }
        var rounds = [b]
        for round in 0..<max(0, weights.delegationRounds) {
            var next = previous?[round + 1] ?? b
            for i in indices {
                let agent = input.agents[i]
                next[i] = agent.delegators.isEmpty ? b[i] : 1 - agent.delegators.reduce(own[i]) { $0 * (1 - weights.upstreamWeight * b[$1]) }
            }
            b = next
            rounds.append(b)
        }
        return rounds
    }

    /// A = B · Π (1 − e · v) over the agent controls, held at a failed control's minimum or more.
    func gatedAgents(_ input: ScoringInput, b: [Double], only: Set<Int>? = nil) -> [Double] {
        var a = b
        for i in only.map({ Array($0) }) ?? Array(input.agents.indices) {
            let agent = input.agents[i]
            // Its gates were part of what is suspected: a recalled agent is not gated.
            if agent.recall != nil { a[i] = 1; continue }
            a[i] = weights.agentControlEffects.sorted(by: { $0.key < $1.key }).reduce(b[i]) { acc, entry in
                acc * (1 - entry.value * (agent.controls[entry.key]?.validity ?? 0))
            }
            if let held = agentFailedMinimum(agent) { a[i] = max(a[i], held.minimum) }
        }
        return a
    }

    /// The highest minimum among the agent's failed controls, and that control.
    public func agentFailedMinimum(_ agent: ScoringInput.Agent) -> (control: String, minimum: Double)? {
        // A loop, not a filter: this runs for every holder of every credential when a run is written.
        var best: (control: String, minimum: Double)?
        for (control, minimum) in weights.agentFailedControls where agent.controls[control]?.failed == true {
            if best == nil || (minimum, control) > (best?.minimum ?? 0, best?.control ?? "") { best = (control, minimum) }
        }
        return best
    }

    /// A credential's main factor when it is not live (its score is 0 for that reason), or when one
    /// of its holders is held by a failed check: that check on that agent, with its evidence (the
    /// holder with the highest A when several are). Nil otherwise.
    public func heldBy(_ credential: ScoringInput.Credential, input: ScoringInput, agentA: [Double]) -> String? {
        guard credential.live else { return "not live: disabled, revoked or expired at its source" }
        let held = credential.holders.compactMap { h -> (String, Double)? in
            let agent = input.agents[h.agent]
            guard let f = agentFailedMinimum(agent) else { return nil }
            let evidence = agent.controls[f.control]?.evidenceID.map { " (evidence #\($0))" } ?? ""
            return ("\(weights.agentFailedWords[f.control] ?? "failed \(f.control)") on \(agent.key)\(evidence)", agentA[h.agent])
        }
        return held.max { ($0.1, $1.0) < ($1.1, $0.0) }?.0
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

    func scoreCredential(_ c: ScoringInput.Credential, input: ScoringInput, layer: CredentialLayer) -> CredentialScore {
        var survive = 1.0
        var topAgent: Int?, topContribution = -1.0
        // A credential that no longer works (disabled, revoked, expired) opens nothing: no path.
        for h in c.reachingHolders {
            let contribution = layer.agentA[h.agent] * deliveryWeight[h.delivery.position]
            survive *= 1 - contribution
            if contribution > topContribution { topContribution = contribution; topAgent = h.agent }
        }
        let p = 1 - survive
        var impact = 0.0, topResource: Int?
        var reached: [Int] = []
        for g in c.grants {
            let tier = layer.tier[g.resource]
            let value = tierWeight[tier] * actionWeight[g.action.position]
            if value > impact { impact = value; topResource = g.resource }
            if impactTier[tier] && !reached.contains(g.resource) { reached.append(g.resource) }
        }
        let terms = hygieneTerms(c, asOf: input.asOf)
        let h = min(max(1 + terms.reduce(0) { $0 + $1.value }, weights.hygiene.clamp.lowerBound), weights.hygiene.clamp.upperBound)
        let score = Int((100 * min(1, p * impact * h)).rounded(.toNearestOrAwayFromZero))
        let threshold = weights.exposureThreshold
        var exposureCount = 0
        if c.holders.count == 1 {
            for k in layer.upstream(of: c.holders[0].agent) where layer.lStar[Int(layer.upstream[k])] > threshold { exposureCount += 1 }
        } else {
            var exposure: Set<Int32> = []
            for holder in c.holders {
                for k in layer.upstream(of: holder.agent) where layer.lStar[Int(layer.upstream[k])] > threshold { exposure.insert(layer.upstream[k]) }
            }
            exposureCount = exposure.count
        }
        var topModel: Int?
        if let a = topAgent {
            for k in layer.upstream(of: a) {
                let m = Int(layer.upstream[k])
                if let best = topModel, (layer.lStar[m], best) < (layer.lStar[best], m) { continue }
                topModel = m
            }
        }
        let chain = topAgent.map { a in topModel.map { m in delegationChain(to: a, input: input) { input.agents[$0].models.contains(m) } } ?? [a] } ?? []
        return CredentialScore(
            p: p, impact: impact, hygiene: h, score: score, band: weights.band(score), impactCount: reached.count,
            exposureCount: exposureCount, hygieneTerms: terms, topModel: topModel, topAgent: topAgent, topResource: topResource,
            topChain: chain)
    }

    /// The delegation chain to `holder` from the nearest agent (within the delegation rounds) for
    /// which `starts` holds, as [that agent, …, holder]; breadth first, delegators in index order,
    /// so the same estate always gives the same chain. `[holder]` when the holder itself starts it.
    public func delegationChain(to holder: Int, input: ScoringInput, starts: (Int) -> Bool) -> [Int] {
        if starts(holder) { return [holder] }
        var towardHolder: [Int: Int] = [holder: holder]
        var frontier = [holder]
        for _ in 0..<max(0, weights.delegationRounds) {
            var next: [Int] = []
            for a in frontier {
                for d in input.agents[a].delegators.sorted() where towardHolder[d] == nil {
                    towardHolder[d] = a
                    if starts(d) {
                        var chain = [d], x = a
                        while x != holder, let step = towardHolder[x] { chain.append(x); x = step }
                        return chain + [holder]
                    }
                    next.append(d)
                }
            }
            frontier = next
        }
        return [holder]
    }

    /// What the credential layer reads, as flat arrays of numbers: credentials then score on every
    /// core without touching shared reference counts. Reading sets and structs held by many
    /// credentials from two cores at once had made a parallel credential layer slower than one core.
    struct CredentialLayer: Sendable {
        let lStar: [Double], agentA: [Double], tier: [Int]
        /// Each agent's upstream models (its own and those of agents delegating to it, within the
        /// rounds): `upstream[upstreamStart[a]..<upstreamStart[a + 1]]`.
        let upstreamStart: [Int], upstream: [Int32]

        init(input: ScoringInput, models: [ModelScore], agentA: [Double], upstreamModels: [Set<Int>]) {
            lStar = models.map(\.lStar)
            self.agentA = agentA
            tier = input.resources.map(\.tier.rawValue)
            var start = [0], flat: [Int32] = []
            for set in upstreamModels {
                flat += set.map { Int32($0) }
                start.append(flat.count)
            }
            (upstreamStart, upstream) = (start, flat)
        }

        func upstream(of agent: Int) -> Range<Int> { upstreamStart[agent]..<upstreamStart[agent + 1] }

        /// Every credential in `indices`, in chunks on every core.
        func scoreAll(_ indices: Range<Int>, engine: ScoringEngine, input: ScoringInput) -> [CredentialScore] {
            let count = indices.count, chunk = 20_000
            guard count > chunk else { return indices.map { engine.scoreCredential(input.credentials[$0], input: input, layer: self) } }
            let chunks = (count + chunk - 1) / chunk
            var out = [CredentialScore?](repeating: nil, count: count)
            out.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let target = buffer
                DispatchQueue.concurrentPerform(iterations: chunks) { n in
                    let credentials = input.credentials, layer = self
                    for i in (n * chunk)..<min(count, (n + 1) * chunk) {
                        target[i] = engine.scoreCredential(credentials[indices.lowerBound + i], input: input, layer: layer)
                    }
                }
            }
            return out.map { $0! }
        }
    }

    /// Every hygiene term, in the order `hygieneTerms` lists them; stored runs keep a credential's
    /// terms as bits by this position.
    public static let hygieneTermNames = ["not_rotated", "no_expiry", "unused", "no_owner", "shared", "exposed", "short_lived", "federated"]

    public static func hygieneMask(_ terms: [Factor]) -> Int {
        terms.reduce(0) { mask, t in mask | (hygieneTermNames.firstIndex(of: t.name).map { 1 << $0 } ?? 0) }
    }

    public static func hygieneNames(mask: Int) -> [String] {
        hygieneTermNames.indices.filter { mask & (1 << $0) != 0 }.map { hygieneTermNames[$0] }
    }

    /// The hygiene terms that hold for a credential, each with what it adds.
    /// Ages are whole days before the as-of time, as docs/scoring.md states: a key rotated 90 days and
    /// 12 hours ago is 90 days old, which is not more than 90.
    static func wholeDays(from date: Date, to asOf: Date) -> Double { (asOf.timeIntervalSince(date) / 86400).rounded(.down) }

    public func hygieneTerms(_ c: ScoringInput.Credential, asOf: Date) -> [Factor] {
        let h = weights.hygiene
        func days(since date: Date?) -> Double? { date.map { Self.wholeDays(from: $0, to: asOf) } }
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

extension Delivery {
    /// A fixed position for weight tables kept as arrays.
    var position: Int {
        switch self {
        case .runtimeEnv: 0;
        case .toolHeld: 1;
        case .brokered: 2;
        case .federated: 3
        }
    }
}

extension GrantAction {
    var position: Int {
        switch self {
        case .read: 0;
        case .write: 1;
        case .exec: 2;
        case .admin: 3
        }
    }
}
