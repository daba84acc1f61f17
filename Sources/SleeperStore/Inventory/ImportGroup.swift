import SleeperCore

/// The files of one import that are written together: each source's files (its snapshot), then
/// the hand-written files, which may refer to what the sources bring.
struct ImportGroup: Sendable {
    var origin: SourceOrigin?
    var inventory: Inventory
    var files: [String]

    static func of(_ files: [ParsedInventory]) -> [ImportGroup] {
        var groups: [ImportGroup] = []
        var handWritten = ImportGroup(origin: nil, inventory: Inventory(), files: [])
        for file in files {
            guard let origin = file.source else {
                handWritten.inventory.append(contentsOf: file.inventory)
                handWritten.files.append(file.file)
                continue
            }
            if let i = groups.firstIndex(where: { $0.origin?.name == origin.name }) {
                groups[i].inventory.append(contentsOf: file.inventory)
                groups[i].origin?.stubs.append(contentsOf: origin.stubs)
                groups[i].origin?.findings += origin.findings
                groups[i].origin?.literalSecrets += origin.literalSecrets
                groups[i].files.append(file.file)
            } else {
                groups.append(ImportGroup(origin: origin, inventory: file.inventory, files: [file.file]))
            }
        }
        // A stub that the import also describes is not a stub.
        let described = Set(groups.flatMap { $0.inventory.models.map(\.key) } + handWritten.inventory.models.map(\.key))
        let describedData = Set(groups.flatMap { $0.inventory.datasets.map(\.key) } + handWritten.inventory.datasets.map(\.key))
        for i in groups.indices {
            groups[i].origin?.stubs.models.removeAll { described.contains($0.key) }
            groups[i].origin?.stubs.datasets.removeAll { describedData.contains($0.key) }
            // Within one source, a key named twice (two cards on one base model) is staged once.
            var seen: Set<String> = []
            groups[i].origin?.stubs.models.removeAll { !seen.insert($0.key).inserted }
            seen = []
            groups[i].origin?.stubs.datasets.removeAll { !seen.insert($0.key).inserted }
        }
        return groups + (handWritten.files.isEmpty ? [] : [handWritten])
    }
}
