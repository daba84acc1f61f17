import Foundation

/// Why a credential scored what it did: factors with their values, weights, evidence and framework
/// items; every path from a model to the credential; and what valid evidence of each missing
/// control would take off the score.
public struct ScoreExplanation: Sendable {
    public struct Factor: Sendable {
        public var subject: String  // model:KEY, agent:KEY, credential:KEY
        public var name: String
        public var value: Double  // the probability, effect, weight or term
        public var weight: String  // what the value does: "p", "effect × validity", "u", "impact", "+H"
        public var evidenceID: Int?
        public var evidenceExpires: Date?
        public var items: [String]  // framework:item
    }

    public struct Path: Sendable {
        /// `agent` is the chain of agents from the one that uses the model to the holder, joined with " → ".
        public var model: String, agent: String, credential: String, resource: String?
        public var contribution: Double
        /// The path `exposure`, reports, exports and the API show for this credential.
        public var isTop = false
    }

    public struct WhatIf: Sendable {
        public var subject: String
        public var control: String
        public var status: String  // missing, expired, in grace, failed, stale …
        public var scoreAfter: Int
        public var reduction: Int
        /// P·I·H after: under the cap a control can lower the risk while the score stays at
        /// 100, and the list still shows it.
        public var rawAfter: Double = 0
        public var items: [String]
    }

    public var subject: String
    public var score: Int
    public var band: Band
    public var p: Double, impact: Double, hygiene: Double
    public var impactCount: Int, exposureCount: Int
    public var factors: [Factor]
    public var paths: [Path]
    public var whatIf: [WhatIf]
    /// P·I·H before the cap.
    public var raw: Double { p * impact * hygiene }
    /// Every hygiene term, applied or skipped, and why.
    public var hygieneRules: [HygieneRule] = []
    /// Why no model reaches the credential (the first break in the chain), when none does.
    public var unreached: UnreachedReason?

    /// The single biggest reason a model puts credentials at risk, in words: a failed scan, what
    /// it inherits, or its largest factor. A credential's main factor is its top model's; runs
    /// store it once per model.
    /// The main factor of a model's L*: the term with the largest share of it. L* is one minus a
    /// product of survivals — the model's own (1 − L), each parent's (1 − t·L*), each dataset's
    /// (1 − w·risk) — so each term's share is its −ln(survival). The own term names a failed
    /// backdoor scan when there is one (with its evidence id), else the largest own risk factor;
    /// a parent's names it, and carries a failed scan upstream forward by name; a dataset's names
    /// the dataset. Ties go to the model's own term.
    public static func mainFactor(model m: Int, input: ScoringInput, result: ScoringEngine.Result, weights: ScoringWeights) -> String {
        let model = input.models[m], score = result.models[m]
        if model.carriedLStar != nil { return model.carriedMain ?? "" }
        func share(_ survival: Double) -> Double { -log(max(1e-12, survival)) }
        enum Term { case own, parent(Int, DerivationRelation), dataset(Int) }
        var best: (Term, Double) = (.own, share(1 - score.l))
        for p in model.parents {
            let s = share(1 - weights.relationTransfer[p.relation] * result.models[p.model].lStar)
            if s > best.1 + 1e-12 { best = (.parent(p.model, p.relation), s) }
        }
        for d in model.datasets {
            let s = share(1 - weights.datasetWeight * weights.risk(of: input.datasets[d]))
            if s > best.1 + 1e-12 { best = (.dataset(d), s) }
        }
        switch best.0 {
        case .own:
            if let recall = model.recall { return "recalled (recall #\(recall)) on \(model.key)" }
            // The failed check that holds L, when one does: the one with the highest minimum.
            if score.heldByFailure, let control = score.failedControls.max(by: { (weights.failedControls[$0] ?? 0) < (weights.failedControls[$1] ?? 0) }) {
                let evidence = model.controls[control]?.citation ?? ""
                return "\(weights.failedWords[control] ?? "failed \(control)") on \(model.key)\(evidence)"
            }
            guard let top = score.factors.max(by: { $0.value < $1.value }) else { return "no own risk factor on \(model.key)" }
            return "\(top.name.replacingOccurrences(of: "_", with: " ")) on \(model.key)"
        case .parent(let p, let relation):
            let upstream = mainFactor(model: p, input: input, result: result, weights: weights)
            if let range = upstream.range(of: #"(failed [^,]+|recalled \(recall #[0-9]+\)) on [^,]+"#, options: .regularExpression) {
                return "\(upstream[range]), inherited (\(relation.rawValue)) into \(model.key)"
            }
            return "inherits from \(input.models[p].key) (\(relation.rawValue)) into \(model.key)"
        case .dataset(let d):
            if let recall = input.datasets[d].recall { return "recalled (recall #\(recall)) on \(input.datasets[d].key), inherited (trained on) into \(model.key)" }
            let dataset = input.datasets[d]
            if let control = dataset.failedControl, let minimum = weights.datasetFailedControls[control],
                minimum >= weights.datasetRisk[dataset.provenance]
            {
                let evidence = dataset.failedEvidence.map { " (evidence #\($0))" } ?? ""
                return "\(weights.datasetFailedWords[control] ?? "failed \(control)") on \(dataset.key)\(evidence), inherited (trained on) into \(model.key)"
            }
            return "dataset risk from \(input.datasets[d].key) (\(input.datasets[d].provenance.rawValue)) into \(model.key)"
        }
    }
}

extension ScoringEngine {
    /// How many what-if scenarios `explain` rescores exactly.
    public static let whatIfCandidates = 24

    /// Explains credential `index` of `input`. `mappings` gives each control's framework items.
    /// What-if scenarios rescore, downstream of the one subject only, with that control's evidence made valid.
    public func explain(credential index: Int, input: ScoringInput, result: Result, mappings: [String: [String]]) throws -> ScoreExplanation {
        let c = input.credentials[index]
        let s = result.credentials[index]
        let subject = "credential:\(c.key)"
        var factors: [ScoreExplanation.Factor] = []
        let upstreamAgents = upstreamAgentClosure(of: c.holders.map(\.agent), input: input)
        let upstreamModels = lineageClosure(of: Set(upstreamAgents.flatMap { input.agents[$0].models }), input: input)

        for m in upstreamModels.sorted() {
            let model = input.models[m]
            for f in result.models[m].factors {
                factors.append(.init(subject: "model:\(model.key)", name: f.name, value: f.value, weight: "p", items: weights.references[f.name] ?? []))
            }
            if let declared = model.declaredSupplier, model.thirdParty {
                let what = declared.relation == "own" ? "the organisation's own" : "allowed by the organisation"
                factors.append(
                    .init(
                        subject: "model:\(model.key)", name: "supplier \(model.supplier ?? "?"): \(what) (sleeper suppliers, declared by \(declared.by))",
                        value: 0, weight: "no third-party term", items: []))
            }
            for (control, effect) in weights.modelControlEffects.sorted(by: { $0.key < $1.key }) {
                let state = model.controls[control]
                factors.append(
                    .init(
                        subject: "model:\(model.key)", name: control, value: effect * (state?.validity ?? 0), weight: "effect \(effect) × validity \(state?.validity ?? 0)",
                        evidenceID: state?.evidenceID, evidenceExpires: state?.expiresAt, items: mappings[control] ?? []))
            }
            if let recall = model.recall {
                factors.append(.init(subject: "model:\(model.key)", name: "recalled", value: 1, weight: "L = (recall #\(recall))", items: []))
            }
            for control in result.models[m].failedControls {
                let name = (weights.failedWords[control] ?? "failed \(control)").replacingOccurrences(of: " ", with: "_")
                factors.append(
                    .init(
                        subject: "model:\(model.key)", name: name, value: weights.failedControls[control] ?? 0, weight: "L ≥",
                        evidenceID: model.controls[control]?.evidenceID, items: weights.references[name] ?? []))
            }
            // A failed check on a dataset the model was trained on holds that dataset's risk.
            for d in model.datasets {
                let dataset = input.datasets[d]
                guard let control = dataset.failedControl else { continue }
                let name = (weights.datasetFailedWords[control] ?? "failed \(control)").replacingOccurrences(of: " ", with: "_")
                factors.append(
                    .init(
                        subject: "dataset:\(dataset.key)", name: name, value: weights.datasetFailedControls[control] ?? 0, weight: "D ≥",
                        evidenceID: dataset.failedEvidence, items: weights.references[name] ?? []))
            }
            for (factor, controls) in weights.factorControls.sorted(by: { $0.key < $1.key }) where result.models[m].factors.contains(where: { $0.name == factor }) {
                for (control, effect) in controls.sorted(by: { $0.key < $1.key }) {
                    let state = model.controls[control]
                    factors.append(
                        .init(
                            subject: "model:\(model.key)", name: control, value: effect * (state?.validity ?? 0),
                            weight: "lowers \(factor): effect \(effect) × validity \(state?.validity ?? 0)",
                            evidenceID: state?.evidenceID, evidenceExpires: state?.expiresAt, items: mappings[control] ?? []))
                }
            }
        }
        for a in upstreamAgents.sorted() {
            let agent = input.agents[a]
            if let recall = agent.recall {
                factors.append(.init(subject: "agent:\(agent.key)", name: "recalled", value: 1, weight: "B = A = (recall #\(recall))", items: []))
            }
            factors.append(
                .init(
                    subject: "agent:\(agent.key)", name: "input_\(agent.inputTrust.rawValue)", value: weights.inputReach[agent.inputTrust],
                    weight: "r", items: agent.inputTrust == .untrusted ? weights.references["untrusted_input"] ?? [] : []))
            if let held = agentFailedMinimum(agent) {
                let state = agent.controls[held.control]
                factors.append(
                    .init(
                        subject: "agent:\(agent.key)", name: (weights.agentFailedWords[held.control] ?? "failed \(held.control)").replacingOccurrences(of: " ", with: "_"),
                        value: held.minimum, weight: "A ≥", evidenceID: state?.evidenceID, evidenceExpires: state?.expiresAt,
                        items: mappings[held.control] ?? []))
            }
            for (control, effect) in weights.agentControlEffects.sorted(by: { $0.key < $1.key }) {
                let state = agent.controls[control]
                factors.append(
                    .init(
                        subject: "agent:\(agent.key)", name: control, value: effect * (state?.validity ?? 0), weight: "effect \(effect) × validity \(state?.validity ?? 0)",
                        evidenceID: state?.evidenceID, evidenceExpires: state?.expiresAt, items: mappings[control] ?? []))
            }
        }
        for h in c.reachingHolders {
            factors.append(
                .init(
                    subject: "agent:\(input.agents[h.agent].key)", name: "delivery_\(h.delivery.rawValue)",
                    value: weights.delivery[h.delivery], weight: "u", items: weights.references["delivery"] ?? []))
        }
        for g in c.grants {
            let r = input.resources[g.resource]
            factors.append(
                .init(
                    subject: "resource:\(r.key)", name: "grant_\(g.action.rawValue)_tier\(r.tier.rawValue)",
                    value: weights.tierCriticality[r.tier] * weights.actionWeight[g.action], weight: "impact", items: []))
        }
        for t in s.hygieneTerms {
            factors.append(.init(subject: subject, name: t.name, value: t.value, weight: "+H", items: weights.references[t.name] ?? []))
        }

        // Every path: a model an upstream agent uses → the delegation chain to the holder → the
        // credential → its top resource. A path's contribution is its term before the noisy-OR
        // that makes P: delivery u × the holder's gate (A/B: human review, segmentation) ×
        // upstream weight per delegation hop × the using agent's input reach r × the model's L*.
        // So P is at least the largest contribution and at most 1 − Π(1 − contribution).
        var paths: [ScoreExplanation.Path] = []
        let resource = s.topResource.map { input.resources[$0].key }
        for h in c.reachingHolders {
            let u = weights.delivery[h.delivery]
            let b = result.agentB[h.agent]
            let gate = b > 0 ? result.agentA[h.agent] / b : 0
            // A holder whose A a failed check holds (runtime monitoring saw it act outside what it
            // may do) contributes u · A by itself, whatever its models: a path of its own.
            if let held = agentFailedMinimum(input.agents[h.agent]) {
                let evidence = input.agents[h.agent].controls[held.control]?.evidenceID.map { " (evidence #\($0))" } ?? ""
                paths.append(
                    .init(
                        model: "\(weights.agentFailedWords[held.control] ?? "failed \(held.control)")\(evidence)", agent: input.agents[h.agent].key,
                        credential: c.key, resource: resource, contribution: u * result.agentA[h.agent]))
            }
            for a in upstreamAgentClosure(of: [h.agent], input: input).sorted() {
                let chain = delegationChain(to: h.agent, input: input) { $0 == a }
                guard chain.first == a else { continue }
                let agent = input.agents[a]
                let r = weights.inputReach[agent.inputTrust]
                let hop = pow(weights.upstreamWeight, Double(chain.count - 1))
                let names = chain.map { input.agents[$0].key }.joined(separator: " → ")
                for m in agent.models {
                    paths.append(
                        .init(
                            model: input.models[m].key, agent: names, credential: c.key, resource: resource,
                            contribution: u * gate * hop * r * result.models[m].lStar))
                }
            }
        }
        paths.sort { ($0.contribution, $1.model, $1.agent) > ($1.contribution, $0.model, $0.agent) }
        // The top path first, as exposure shows it: the holder contributing most, the upstream
        // model with the highest L*, and the real chain between them.
        if let m = s.topModel, !s.topChain.isEmpty {
            let top = (model: input.models[m].key, agent: s.topChain.map { input.agents[$0].key }.joined(separator: " → "))
            if let i = paths.firstIndex(where: { $0.model == top.model && $0.agent == top.agent }) {
                var path = paths.remove(at: i)
                path.isTop = true
                paths.insert(path, at: 0)
            }
        }

        // What-if: each model or agent control short of full validity, made valid.
        var whatIf: [ScoreExplanation.WhatIf] = []
        func status(_ state: ScoringInput.ControlState?) -> String {
            guard let state else { return "missing" }
            if state.failed { return "failed" }
            return state.validity > 0 ? "in grace" : "expired or stale"
        }
        // Candidates ranked by a cheap estimate (the subject's likelihood times the control's effect);
        // only the most promising are rescored exactly, which bounds explain on deep lineage.
        struct Candidate { var model: Int?; var agent: Int?; var control: String; var estimate: Double }
        var candidates: [Candidate] = []
        for m in upstreamModels {
            for (control, effect) in weights.modelControlEffects
            where (input.models[m].controls[control]?.validity ?? 0) < 1 || input.models[m].controls[control]?.failed == true {
                candidates.append(Candidate(model: m, agent: nil, control: control, estimate: result.models[m].lStar * effect))
            }
        }
        for a in upstreamAgents {
            for (control, effect) in weights.agentControlEffects where (input.agents[a].controls[control]?.validity ?? 0) < 1 {
                candidates.append(Candidate(model: nil, agent: a, control: control, estimate: result.agentA[a] * effect))
            }
        }
        candidates.sort { ($0.estimate, $1.control) > ($1.estimate, $0.control) }
        for candidate in candidates.prefix(Self.whatIfCandidates) {
            var changed = input
            let after: ScoringEngine.CredentialScore
            let subjectName: String, state: ScoringInput.ControlState?
            if let m = candidate.model {
                state = input.models[m].controls[candidate.control]
                changed.models[m].controls[candidate.control] = .init(validity: 1)
                after = try scoreOne(credential: index, input: changed, previous: result, models: upstreamModels, agents: upstreamAgents)
                subjectName = "model:\(input.models[m].key)"
            } else {
                let a = candidate.agent!
                state = input.agents[a].controls[candidate.control]
                changed.agents[a].controls[candidate.control] = .init(validity: 1)
                after = try scoreOne(credential: index, input: changed, previous: result, models: upstreamModels, agents: upstreamAgents)
                subjectName = "agent:\(input.agents[a].key)"
            }
            if after.raw < s.raw {
                whatIf.append(
                    .init(
                        subject: subjectName, control: candidate.control, status: status(state),
                        scoreAfter: after.score, reduction: s.score - after.score,
                        rawAfter: after.raw, items: mappings[candidate.control] ?? []))
            }
        }
        // By what the score loses, then by the uncapped product left (lowest first), which orders
        // the controls of a credential above the cap, where every score stays 100.
        whatIf.sort { ($0.reduction, $1.rawAfter, $1.subject, $1.control) > ($1.reduction, $0.rawAfter, $0.subject, $0.control) }
        var explanation = ScoreExplanation(
            subject: subject, score: s.score, band: s.band, p: s.p, impact: s.impact, hygiene: s.hygiene,
            impactCount: s.impactCount, exposureCount: s.exposureCount, factors: factors, paths: paths, whatIf: whatIf)
        explanation.hygieneRules = hygieneRules(c, asOf: input.asOf)
        // Zero is not safe when nothing links the credential to a model: say which link is missing.
        if !c.live {
            explanation.unreached = .notLive
        } else if c.holders.isEmpty {
            explanation.unreached = .noHolder
        } else if c.grants.isEmpty {
            explanation.unreached = .noGrant
        } else if upstreamModels.isEmpty {
            explanation.unreached = .noModel
        }
        return explanation
    }

    /// One credential's score after a change confined to its upstream: `models` is the lineage
    /// closure of every model its upstream agents use, `agents` those agents. Only they are
    /// recomputed. Exact: an agent h hops upstream of a holder contributes its round-(rounds − h)
    /// value, which depends only on agents inside the closure.
    func scoreOne(credential index: Int, input: ScoringInput, previous: Result, models: Set<Int>, agents: Set<Int>) throws -> CredentialScore {
        let fresh = try scoreModels(input, only: models, previous: previous.models)
        let rounds = agentRounds(input, lStar: fresh.map(\.lStar), only: agents, previous: previous.agentRounds)
        let a = gatedAgents(input, b: rounds.last!, only: agents)
        var upstream = [Set<Int>](repeating: [], count: input.agents.count)
        for h in input.credentials[index].holders {
            upstream[h.agent] = Set(upstreamAgentClosure(of: [h.agent], input: input).flatMap { input.agents[$0].models })
        }
        let layer = CredentialLayer(input: input, models: fresh, agentA: a, upstreamModels: upstream)
        return scoreCredential(input.credentials[index], input: input, layer: layer)
    }

    /// The holders and every agent delegating to them, transitively, within the delegation rounds.
    func upstreamAgentClosure(of agents: [Int], input: ScoringInput) -> Set<Int> {
        var seen = Set(agents), frontier = agents
        for _ in 0..<max(0, weights.delegationRounds) {
            frontier = frontier.flatMap { input.agents[$0].delegators }.filter { seen.insert($0).inserted }
        }
        return seen
    }

    /// The models and all their lineage ancestors.
    func lineageClosure(of models: Set<Int>, input: ScoringInput) -> Set<Int> {
        var seen = models, frontier = Array(models)
        while let m = frontier.popLast() {
            for p in input.models[m].parents where seen.insert(p.model).inserted { frontier.append(p.model) }
        }
        return seen
    }
}
