/// One framework item's coverage: subjects some mapped control applies to, and how many of them
/// have valid evidence of at least one of those controls.
public struct ItemCoverage: Sendable, Equatable {
    public var item: String
    public var name: String
    public var isAlias: Bool
    public var applicable: Int
    public var covered: Int
    public var percent: Double? { applicable == 0 ? nil : 100 * Double(covered) / Double(applicable) }

    public init(item: String, name: String, isAlias: Bool, applicable: Int, covered: Int) {
        self.item = item
        self.name = name
        self.isAlias = isAlias
        self.applicable = applicable
        self.covered = covered
    }
}
