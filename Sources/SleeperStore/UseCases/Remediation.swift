import Foundation
import SleeperCore

extension ScoredChanges {
    /// A recall as it was made: its id (nil for a dry run), the plan, and the rescore.
    public struct RecallOutcome: Sendable {
        public var recall: Int?
        public var plan: [PlannedAction]
        /// The resources the reached credentials can act on, most critical tier first.
        public var resources: [String]
        public var rescore: Rescore?
    }

    /// Recalls a model, dataset or agent: plans the actions over its blast radius (scored with the
    /// subject counted as compromised), records the recall and the plan in one transaction, and
    /// rescores everything downstream. A dry run only plans.
    public func recall(
        _ subject: Subject, reason: String, by: String, dryRun: Bool, actor: String,
        asOf: Date = SleeperClock.now()
    ) async throws -> RecallOutcome {
        guard subject.kind != .credential else { throw StoreError.invalidInput("a credential is not recalled: rotate or revoke it (recall the model, dataset or agent that put it at risk)") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalidInput("--reason: say why the subject is recalled") }
        try await ReferenceLookup(db).requireSubject(subject)
        let (plan, resources) = try await Recalls(db).plan(subject, policy: try Self.bundledRemediationPolicy(), asOf: asOf)
        guard !dryRun else { return RecallOutcome(recall: nil, plan: plan, resources: resources, rescore: nil) }
        // Scored as of the recall at the earliest: the database's clock stamped it after `asOf` was read.
        let (id, _, debt) = try await Recalls(db).record(subject, reason: reason, by: by, plan: plan, actor: actor) { id, at, tx in
            try await owe(OwedRescore(trigger: "recall #\(id) of \(subject)", actor: actor, asOf: max(asOf, at), subjects: [subject]), on: tx)
        }
        let rescore = await settling(debt ?? 0, actor: actor)
        return RecallOutcome(recall: id, plan: plan, resources: resources, rescore: rescore)
    }

    /// Releases a standing recall and rescores what it reached.
    public func release(_ subject: Subject, reason: String, by: String, actor: String, asOf: Date = SleeperClock.now()) async throws -> (recall: Int, rescore: Rescore) {
        let (id, _, debt) = try await Recalls(db).release(subject, reason: reason, by: by, actor: actor) { id, at, tx in
            try await owe(OwedRescore(trigger: "release of recall #\(id)", actor: actor, asOf: max(asOf, at), subjects: [subject]), on: tx)
        }
        return (id, await settling(debt ?? 0, actor: actor))
    }

    /// The policy shipped in this binary (`Controls/remediation.yaml`).
    public static func bundledRemediationPolicy() throws -> RemediationPolicy {
        guard let data = BundledFiles.all["Controls/remediation.yaml"] else { throw StoreError.invalidInput("Controls/remediation.yaml is not in this build") }
        return try RemediationPolicy.read(data).get()
    }
}
