import Foundation

/// What every reader of a JSON or YAML source does first: load the document (bounded like every
/// document Sleeper reads) and read it through a cursor that collects problems.
enum SourceDocument {
    /// `read` with the document's root and a problem collector; a document that does not load
    /// is that one problem.
    static func read(_ data: Data, file: String, _ read: (DocumentCursor, ProblemCollector) -> ParsedInventory) -> ParsedInventory {
        let tree: DocumentValue
        do { tree = try DocumentLoader.load(data, file: file) } catch {
            return ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: [error])
        }
        return read(DocumentCursor(value: tree, path: ""), ProblemCollector(file: file))
    }

    /// Nothing read, and why.
    static func refused(_ file: String, _ problems: ProblemCollector) -> ParsedInventory {
        ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: problems.problems)
    }
}
