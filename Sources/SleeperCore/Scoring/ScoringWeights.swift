import Foundation

/// Every number of the scoring model, read from `Controls/scoring.yaml`. Nothing of it is a
/// constant in code.
public struct ScoringWeights: Sendable, Equatable {
    public var version: String
    public var modelFactors: EnumWeights<ModelFactor>
    public var unsafeSerializations: Set<Serialization>
    public var supplierAllowList: Set<String>
    public var modelControlEffects: [String: Double]
    /// Controls whose valid evidence lowers one factor: factor → control → effect.
    public var factorControls: [String: [String: Double]]
    public var modelFloor: Double
    /// Controls whose failed check holds L at a minimum: control → minimum.
    public var failedControls: [String: Double]
    /// How explanations name each failed check ("failed backdoor scan").
    public var failedWords: [String: String]
    public var relationTransfer: EnumWeights<DerivationRelation>
    public var datasetWeight: Double
    public var datasetRisk: EnumWeights<DatasetProvenance>
    public var inputReach: EnumWeights<InputTrust>
    public var upstreamWeight: Double
    public var delegationRounds: Int
    public var agentControlEffects: [String: Double]
    /// A failed check of these controls forces A to at least its minimum (runtime monitoring that saw
    /// an agent act outside what it may do); `agentFailedWords` names it in explanations.
    public var agentFailedControls: [String: Double]
    public var agentFailedWords: [String: String]
    /// A failed check of these controls on a dataset holds its risk D at a minimum (a failed
    /// training-data screen is direct evidence of poisoning); `datasetFailedWords` names it.
    public var datasetFailedControls: [String: Double] = [:]
    public var datasetFailedWords: [String: String] = [:]
    public var delivery: EnumWeights<Delivery>
    public var tierCriticality: EnumWeights<ResourceTier>
    public var actionWeight: EnumWeights<GrantAction>
    public var hygiene: Hygiene
    public var bands: (critical: Double, high: Double, medium: Double)
    public var exposureThreshold: Double
    public var impactTiers: Set<Int>
    /// Framework items per factor name, as `framework:item`.
    public var references: [String: [String]]

    public struct Hygiene: Sendable, Equatable {
        public var notRotatedDays: Double, notRotated: Double
        public var noExpiry: Double
        public var unusedDays: Double, unused: Double
        public var noOwner: Double, shared: Double, exposed: Double
        public var shortLivedMaxTTL: Int, shortLived: Double
        public var federated: Double
        public var clamp: ClosedRange<Double>
    }

    public static func == (a: ScoringWeights, b: ScoringWeights) -> Bool { a.version == b.version && a.modelFactors == b.modelFactors }

    /// Every control whose evidence moves a score, in a fixed order.
    public var scoringControls: [String] {
        Set(modelControlEffects.keys).union(agentControlEffects.keys).union(failedControls.keys).union(agentFailedControls.keys).union(datasetFailedControls.keys)
            .union(factorControls.values.flatMap(\.keys)).sorted()
    }

    /// Reads and checks the file; every missing or malformed number is reported with its path.
    public static func read(_ data: Data, file: String = "Controls/scoring.yaml") -> Result<ScoringWeights, InventoryProblems> {
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file)
        let r = DocumentCursor(value: root, path: "")
        func number(_ cursor: DocumentCursor) -> Double {
            switch cursor.value {
            case .double(let d)?: return d
            case .int(let i)?: return Double(i)
            default: c.report(cursor.path, "must be a number"); return 0
            }
        }
        func table(_ cursor: DocumentCursor, keys: [String]? = nil) -> [String: Double] {
            guard let fields = cursor.fields else { c.report(cursor.path, "must be a mapping"); return [:] }
            var out: [String: Double] = [:]
            for key in fields.keys { out[key] = number(cursor[key]) }
            for key in keys ?? [] where out[key] == nil { c.report("\(cursor.path).\(key)", "is required") }
            return out
        }
        func strings(_ cursor: DocumentCursor) -> Set<String> { Set(c.list(cursor).compactMap { c.string($0) }) }
        let h = r["credential"]["hygiene"]
        let clamp = c.list(h["clamp"]).map(number)
        let bands = r["bands"]
        /// A `failed_controls` table: each control's minimum, and the words explanations use for it.
        func failed(_ table: DocumentCursor) -> (minimums: [String: Double], words: [String: String]) {
            var minimums: [String: Double] = [:], words: [String: String] = [:]
            for control in (table.fields ?? [:]).keys {
                minimums[control] = number(table[control]["minimum"])
                let says = c.string(table[control]["says"], required: true) ?? control
                if !says.hasPrefix("failed ") { c.report(table[control]["says"].path, "must start with 'failed '") }
                words[control] = says
            }
            return (minimums, words)
        }
        let modelFailed = failed(r["model"]["failed_controls"]), agentFailed = failed(r["agent"]["failed_controls"])
        let datasetFailed = failed(r["lineage"]["failed_controls"])
        var weights = ScoringWeights(
            version: c.string(r["version"], required: true) ?? "",
            modelFactors: .read(r["model"]["factors"], c, number: number),
            unsafeSerializations: Set(c.list(r["model"]["unsafe_serializations"]).compactMap { c.enumeration($0, Serialization.self) }),
            supplierAllowList: strings(r["model"]["supplier_allow_list"]),
            modelControlEffects: table(r["model"]["control_effects"]),
            factorControls: (r["model"]["factor_controls"].fields ?? [:]).keys.reduce(into: [:]) { out, factor in
                out[factor] = table(r["model"]["factor_controls"][factor])
            },
            modelFloor: number(r["model"]["floor"]),
            failedControls: modelFailed.minimums,
            failedWords: modelFailed.words,
            relationTransfer: .read(r["lineage"]["relation_transfer"], c, number: number),
            datasetWeight: number(r["lineage"]["dataset_weight"]),
            datasetRisk: .read(r["lineage"]["dataset_risk"], c, number: number),
            inputReach: .read(r["agent"]["input_reach"], c, number: number),
            upstreamWeight: number(r["agent"]["upstream_weight"]),
            delegationRounds: Int(number(r["agent"]["delegation_rounds"])),
            agentControlEffects: table(r["agent"]["control_effects"]),
            agentFailedControls: agentFailed.minimums,
            agentFailedWords: agentFailed.words,
            delivery: .read(r["credential"]["delivery"], c, number: number),
            tierCriticality: .read(r["credential"]["tier_criticality"], c, name: { String($0.rawValue) }, number: number),
            actionWeight: .read(r["credential"]["action_weight"], c, number: number),
            hygiene: Hygiene(
                notRotatedDays: number(h["not_rotated"]["days"]), notRotated: number(h["not_rotated"]["add"]),
                noExpiry: number(h["no_expiry"]["add"]),
                unusedDays: number(h["unused"]["days"]), unused: number(h["unused"]["add"]),
                noOwner: number(h["no_owner"]["add"]), shared: number(h["shared"]["add"]), exposed: number(h["exposed"]["add"]),
                shortLivedMaxTTL: Int(number(h["short_lived"]["max_ttl_seconds"])), shortLived: number(h["short_lived"]["add"]),
                federated: number(h["federated"]["add"]),
                clamp: clamp.count == 2 && clamp[0] <= clamp[1] ? clamp[0]...clamp[1] : 0...10),
            bands: (number(bands["critical"]), number(bands["high"]), number(bands["medium"])),
            exposureThreshold: number(r["exposure_threshold"]),
            impactTiers: Set(c.list(r["impact_tiers"]).compactMap { c.integer($0) }),
            references: (r["references"].fields ?? [:]).keys.reduce(into: [:]) { out, key in
                out[key] = c.list(r["references"][key]).compactMap { c.string($0) }
            })
        weights.datasetFailedControls = datasetFailed.minimums
        weights.datasetFailedWords = datasetFailed.words
        for factor in weights.factorControls.keys where ModelFactor(rawValue: factor) == nil {
            c.report(r["model"]["factor_controls"][factor].path, "'\(factor)' is not a model factor (\(ModelFactor.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if weights.failedControls.isEmpty { c.report(r["model"]["failed_controls"].path, "is required (control: minimum L)") }
        if clamp.count != 2 { c.report(h["clamp"].path, "must be [low, high]") }
        return c.problems.isEmpty ? .success(weights) : .failure(InventoryProblems(c.problems))
    }

    /// A dataset's risk by its provenance, held at a failed check's minimum; a recalled dataset's is 1.
    public func risk(of d: ScoringInput.Dataset) -> Double {
        if d.recall != nil { return 1 }
        let provenance = datasetRisk[d.provenance]
        return max(provenance, d.failedControl.flatMap { datasetFailedControls[$0] } ?? 0)
    }

    public func band(_ score: Int) -> Band { Band.of(score, thresholds: bands) }
}
