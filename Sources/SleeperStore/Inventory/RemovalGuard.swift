/// How much of what a source listed one snapshot may remove: a truncated export (an empty page,
/// a file cut short) must not wipe an estate. A snapshot that would remove more than
/// `maximumShare` of the entities its source listed before is refused, with the list of what
/// would go, unless `allowed`.
public struct RemovalGuard: Sendable {
    public var maximumShare: Double
    public var allowed: Bool
    public init(maximumShare: Double = RemovalGuard.defaultShare, allowed: Bool = false) {
        (self.maximumShare, self.allowed) = (maximumShare, allowed)
    }

    public static let defaultShare = 0.2

    /// Why `removing` of the `listed` entities a source listed before may not go, or nil.
    func refusal(source: String, files: [String], removing: [String], listed: Int) -> String? {
        guard !allowed, !removing.isEmpty else { return nil }
        let share = Double(removing.count) / Double(max(listed, 1))
        guard share > maximumShare else { return nil }
        let percent = { (x: Double) in String(Int((x * 100).rounded())) + " %" }
        return "\(files.joined(separator: ", ")): this snapshot of source \(source) would remove \(removing.count) of the \(listed) entities it listed "
            + "(\(percent(share)), over the \(percent(maximumShare)) a snapshot may remove): "
            + removing.prefix(20).joined(separator: ", ") + (removing.count > 20 ? " and \(removing.count - 20) more" : "")
            + "; nothing was written. If the source really dropped them, import again with --allow-removals (or a higher --max-removals)"
    }
}
