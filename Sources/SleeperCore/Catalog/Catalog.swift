/// The frameworks Sleeper maps to, its own controls, and the crosswalk between them: the
/// vocabulary in which every finding is reported.
public struct Catalog: Sendable, Equatable {
    public var frameworks: [Framework]
    public var controls: [Control]
    public var mappings: [ControlMapping]
    /// What the crosswalk says about itself (that it is Sleeper's own).
    public var crosswalkStatement: String

    public init(frameworks: [Framework] = [], controls: [Control] = [], mappings: [ControlMapping] = [], crosswalkStatement: String = "") {
        self.frameworks = frameworks
        self.controls = controls
        self.mappings = mappings
        self.crosswalkStatement = crosswalkStatement
    }

    public func framework(_ id: String) -> Framework? { frameworks.first { $0.id == id } }

    /// A framework by id, or by an id that differs only in case when exactly one does.
    public func framework(matching id: String) -> Framework? {
        framework(id) ?? NearestName.caseInsensitive(id, among: frameworks.map(\.id)).flatMap { framework($0) }
    }

    /// "unknown framework 'x'; the frameworks are …".
    public func unknownFramework(_ id: String) -> String {
        NearestName.unknownFramework(id, known: frameworks.map(\.id))
    }
}

public struct Framework: Sendable, Equatable {
    public var id: String
    public var name: String
    public var edition: String
    public var source: String
    public var licence: String
    public var items: [FrameworkItem]

    public init(id: String, name: String, edition: String, source: String, licence: String, items: [FrameworkItem]) {
        self.id = id
        self.name = name
        self.edition = edition
        self.source = source
        self.licence = licence
        self.items = items
    }
}

public struct FrameworkItem: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    /// technique, sub-technique, mitigation, tactic, function, category, subcategory, risk, alias …
    public var kind: String
    public var parent: String?
    /// For an alias entry (OWASP "A2"): the items it stands for.
    public var aliasOf: [String]
    /// For an ATLAS mitigation: the techniques it mitigates, from the official data.
    public var mitigates: [String]
    public var backdoorRelevant: Bool

    public init(
        id: String, name: String, description: String = "", kind: String = "item", parent: String? = nil,
        aliasOf: [String] = [], mitigates: [String] = [], backdoorRelevant: Bool = false
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.kind = kind
        self.parent = parent
        self.aliasOf = aliasOf
        self.mitigates = mitigates
        self.backdoorRelevant = backdoorRelevant
    }

    public var isAlias: Bool { !aliasOf.isEmpty }
}

/// The kinds of inventory entity that controls and evidence are about.
public enum SubjectKind: String, CaseIterable, Sendable, Codable {
    case model, dataset, agent, credential
}

public struct Control: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var appliesTo: [SubjectKind]
    public var evidence: String
    public var validityDays: Int
    public var graceDays: Int

    public init(id: String, name: String, description: String, appliesTo: [SubjectKind], evidence: String, validityDays: Int, graceDays: Int) {
        self.id = id
        self.name = name
        self.description = description
        self.appliesTo = appliesTo
        self.evidence = evidence
        self.validityDays = validityDays
        self.graceDays = graceDays
    }
}

/// OLIR / OSCAL mapping relationships, read as "control RELATIONSHIP item".
public enum MappingRelationship: String, CaseIterable, Sendable {
    case equivalentTo = "equivalent-to"
    case equalTo = "equal-to"
    case subsetOf = "subset-of"
    case supersetOf = "superset-of"
    case intersectsWith = "intersects-with"
    case noRelationship = "no-relationship"
}

public struct ControlMapping: Sendable, Equatable, Hashable {
    public var control: String
    public var framework: String
    public var item: String
    public var relationship: MappingRelationship

    public init(control: String, framework: String, item: String, relationship: MappingRelationship) {
        self.control = control
        self.framework = framework
        self.item = item
        self.relationship = relationship
    }
}

extension Catalog {
    /// Backdoor-relevant items that no control reaches. An alias counts as reached when every item
    /// it stands for is. The shipped catalog must have none (a test checks it).
    public func unreachedRelevantItems() -> [(framework: String, item: String)] {
        let reached = Set(mappings.filter { $0.relationship != .noRelationship }.map { "\($0.framework)\u{0}\($0.item)" })
        var missing: [(String, String)] = []
        for framework in frameworks {
            for item in framework.items where item.backdoorRelevant {
                let targets = item.isAlias ? item.aliasOf : [item.id]
                if !targets.allSatisfy({ reached.contains("\(framework.id)\u{0}\($0)") }) { missing.append((framework.id, item.id)) }
            }
        }
        return missing
    }
}
