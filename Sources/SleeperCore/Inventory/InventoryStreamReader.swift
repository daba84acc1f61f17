import Foundation

/// A JSON inventory read as it is parsed: the five sections' entities go by in batches, each
/// batch read and secret-scanned by one of several workers while the parser goes on, so that only
/// a few batches are ever held as trees and every core is busy. The batches' results are put
/// back in file order. A document loaded whole (YAML) goes through the same batches and checks
/// (`read(tree:)`), so both give the same answers, problems and paths.
enum InventoryStreamReader {
    /// The order sections are read in and their problems reported.
    static let sections: [EntityKind] = [.resources, .datasets, .models, .credentials, .agents]

    /// Entities per batch: small enough that a batch's arrays stay under the allocator's
    /// threshold for consolidating freed memory, which made larger batches slow at a million.
    static let batchSize = 256

    /// One section's part of a file: the entities of one batch, numbered in file order.
    private struct Batch: Sendable {
        var number: Int
        var kind: EntityKind
        var cursors: [DocumentCursor]
    }

    /// What one batch gave: its entities, what its walker learnt, its problems.
    private struct BatchResult: @unchecked Sendable {
        var kind: EntityKind
        var inventory = Inventory()
        var walker: InventoryReader.Walker
        var problems: ProblemCollector
        var unknown: ProblemCollector
        var secrets: ProblemCollector
        var secretPaths: Set<String> = []
        /// The batch itself, so that its trees are freed by the thread that made them (the
        /// parser's, when the result is merged): freed by a worker, memory made by another thread
        /// went back through the allocator's locks, and reading a million credentials took half
        /// as long again.
        var batch: Batch?
    }

    private static func process(_ batch: Batch, file: String, lenient: Bool) -> BatchResult {
        let problems = ProblemCollector(file: file, checksSecrets: false)
        let unknown = lenient ? ProblemCollector(file: file, checksSecrets: false) : problems
        var r = BatchResult(
            kind: batch.kind, walker: InventoryReader.Walker(collector: problems, unknownFields: unknown),
            problems: problems, unknown: unknown, secrets: ProblemCollector(file: file, checksSecrets: false))
        for c in batch.cursors {
            r.secretPaths.formUnion(SecretScanner.scan(c, into: r.secrets))
            switch batch.kind {
            case .resources: if let e = r.walker.resource(c) { r.inventory.resources.append(e) }
            case .datasets: if let e = r.walker.dataset(c) { r.inventory.datasets.append(e) }
            case .models: if let e = r.walker.model(c) { r.inventory.models.append(e) }
            case .credentials: if let e = r.walker.credential(c) { r.inventory.credentials.append(e) }
            case .agents: if let e = r.walker.agent(c) { r.inventory.agents.append(e) }
            }
        }
        r.batch = batch
        return r
    }

    /// nil when the file is not a JSON object at the top (the tree reader then says what it is).
    static func read(_ data: Data, file: String, lenient: Bool) -> ParsedInventory? {
        guard data.count <= DocumentLoader.maximumBytes,
            data.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) == UInt8(ascii: "{")
        else { return nil }
        let queue = BoundedQueue<Batch>(capacity: 32)
        let lock = NSLock()
        nonisolated(unsafe) var results: [Int: BatchResult] = [:]
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            Thread {
                while let batch = queue.pop() {
                    let result = process(batch, file: file, lenient: lenient)
                    lock.lock(); results[batch.number] = result; lock.unlock()
                }
                done.signal()
            }.start()
        }
        var others: [String: DocumentValue] = [:]
        var streamed: Set<String> = []
        var steps: [String: DocumentPath.Step] = [:]
        var syntaxError: JSONTreeParser.SyntaxError?
        var count = 0
        let merged = Merged()
        // Results are merged in file order as soon as they are ready, so that a batch's trees are
        // freed while the parser goes on: the memory held is a few batches, not the file.
        func mergeReady() {
            lock.lock()
            var ready: [BatchResult] = []
            while let r = results.removeValue(forKey: merged.next) { ready.append(r); merged.next += 1 }
            lock.unlock()
            for r in ready { merged.add(r) }
        }
        do {
            try JSONTreeParser.readSections(
                data, maximumDepth: DocumentLimits(bytes: data.count).maximumDepth,
                streamed: Set(sections.map(\.rawValue)), batchSize: batchSize,
                batch: { values, section, first in
                    guard let kind = EntityKind(rawValue: section) else { return }
                    streamed.insert(section)
                    let step = steps[section] ?? DocumentCursor.sectionStep(section)
                    steps[section] = step
                    queue.push(Batch(number: count, kind: kind, cursors: DocumentCursor.elements(values, of: step, from: first)))
                    count += 1
                    mergeReady()
                }, other: { field, value in others[field] = value })
        } catch {
            syntaxError = error
        }
        queue.close()
        for _ in 0..<workers { done.wait() }
        if let syntaxError {
            return ParsedInventory(
                file: file, inventory: Inventory(), definitions: [:], references: [],
                problems: [InventoryProblem(file: file, path: "", message: "is not valid JSON: \(syntaxError)")])
        }
        mergeReady()
        return assemble(file: file, lenient: lenient, merged: merged, streamed: streamed, others: others)
    }

    /// A document already loaded whole: its sections cut into the same batches, read in turn.
    static func read(tree: DocumentValue, file: String, lenient: Bool) -> ParsedInventory {
        guard case .object(let top) = tree else {
            let problem = InventoryProblem(file: file, path: "", message: "must be a mapping with models, datasets, agents, credentials, resources")
            return ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: [problem])
        }
        let merged = Merged()
        var others: [String: DocumentValue] = [:], streamed: Set<String> = []
        // Sections in the order the streamed reader reports them, so references keep one order.
        for field in sections.map(\.rawValue).filter({ top[$0] != nil }) + top.keys.filter({ EntityKind(rawValue: $0) == nil }).sorted() {
            guard let value = top[field] else { continue }
            guard let kind = EntityKind(rawValue: field), case .array(let items) = value else { others[field] = value; continue }
            streamed.insert(field)
            let step = DocumentCursor.sectionStep(field)
            for first in stride(from: 0, to: items.count, by: batchSize) {
                let cursors = DocumentCursor.elements(Array(items[first..<min(items.count, first + batchSize)]), of: step, from: first)
                merged.add(process(Batch(number: merged.next, kind: kind, cursors: cursors), file: file, lenient: lenient))
                merged.next += 1
            }
        }
        return assemble(file: file, lenient: lenient, merged: merged, streamed: streamed, others: others)
    }

    /// The batches merged so far, in file order.
    private final class Merged {
        var next = 0
        var inventory = Inventory()
        var definitions: [EntityKind: [String: DocumentPath]] = [:]
        /// References not (yet) defined: most refer to what the file defined before them and are
        /// dropped at once instead of being held to the end.
        var references: [InventoryReference] = []
        var problems: [EntityKind: [InventoryProblem]] = [:], unknown: [EntityKind: [InventoryProblem]] = [:]
        var secrets: [EntityKind: [InventoryProblem]] = [:]
        var secretPaths: Set<String> = []

        /// Within each section, a key a batch defines again is refused as the walker refuses one
        /// defined twice in its own batch.
        func add(_ result: BatchResult) {
            var b = result
            var known = definitions.removeValue(forKey: b.kind) ?? [:]  // taken out, not copied
            var duplicates: [(key: String, at: DocumentPath)] = []
            for (key, at) in b.walker.definitions[b.kind] ?? [:] {
                if known[key] != nil { duplicates.append((key, at)) } else { known[key] = at }
            }
            if !duplicates.isEmpty {
                duplicates.sort { ($0.at.parent?.index ?? 0) < ($1.at.parent?.index ?? 0) }
                for d in duplicates { b.problems.report(d.at.description, "duplicate key '\(d.key)' (already defined at \(known[d.key].map(\.description) ?? ""))") }
                let dropped = Set(duplicates.map(\.key))
                b.inventory.resources.removeAll { dropped.contains($0.key) }; b.inventory.datasets.removeAll { dropped.contains($0.key) }
                b.inventory.models.removeAll { dropped.contains($0.key) }; b.inventory.credentials.removeAll { dropped.contains($0.key) }
                b.inventory.agents.removeAll { dropped.contains($0.key) }
            }
            if !known.isEmpty { definitions[b.kind] = known }
            inventory.append(contentsOf: b.inventory)
            references += b.walker.references.filter { definitions[$0.kind]?[$0.key] == nil }
            problems[b.kind, default: []] += b.problems.problems
            if b.unknown !== b.problems { unknown[b.kind, default: []] += b.unknown.problems }
            secrets[b.kind, default: []] += b.secrets.problems
            secretPaths.formUnion(b.secretPaths)
        }
    }

    /// Top-level checks and the secret scan of what was not streamed, then every problem in the
    /// order the tree reader gives them.
    private static func assemble(
        file: String, lenient: Bool, merged: Merged,
        streamed: Set<String>, others: [String: DocumentValue]
    ) -> ParsedInventory {
        let top = ProblemCollector(file: file, checksSecrets: false)
        let topUnknown = lenient ? ProblemCollector(file: file, checksSecrets: false) : top
        let keys = streamed.union(others.keys)
        guard keys.contains(where: { EntityKind(rawValue: $0) != nil }) else {
            let problem = InventoryProblem(file: file, path: "", message: "no inventory in \(file): none of the sections models, datasets, agents, credentials, resources")
            return ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: [problem])
        }
        for field in keys.sorted() where !FieldNames.sections.contains(field) && !FieldNames.isCustom(field) {
            let hint = FieldNames.suggestion(for: field, among: FieldNames.sections).map { " (did you mean '\($0)'?)" } ?? ""
            topUnknown.report(field, "is not a section of the inventory format\(hint); expected: models, datasets, agents, credentials, resources")
        }
        let rest = DocumentCursor(value: .object(others), path: "")
        // A section that is not a list (`credentials: {}`) is reported as the tree reader does.
        for kind in sections where others[kind.rawValue] != nil { _ = top.list(rest[kind.rawValue]) }
        var secretPaths = merged.secretPaths
        var secretProblems: [InventoryProblem] = []
        for field in keys.sorted() {
            if let kind = EntityKind(rawValue: field), streamed.contains(field) {
                secretProblems += merged.secrets[kind] ?? []
            } else if let value = others[field] {
                let one = ProblemCollector(file: file, checksSecrets: false)
                secretPaths.formUnion(SecretScanner.scan(DocumentCursor(value: .object([field: value]), path: ""), into: one))
                secretProblems += one.problems
            }
        }
        // What is still not defined once the whole file is read stays for the import to look up.
        // A value judged secret is never quoted again: not by a type error, nor by a reference check later.
        let references = merged.references.filter { merged.definitions[$0.kind]?[$0.key] == nil && !secretPaths.contains($0.path) }
        let problems = ProblemCollector.excluding(top.problems + sections.flatMap { merged.problems[$0] ?? [] }, paths: secretPaths)
        let warnings = lenient ? topUnknown.problems + sections.flatMap { merged.unknown[$0] ?? [] } : []
        return ParsedInventory(
            file: file, inventory: merged.inventory, definitions: merged.definitions, references: references,
            problems: secretProblems + problems, warnings: warnings)
    }
}
