import Foundation

/// One model file scanned by its content: the format its bytes say, and what each format's check
/// finds. Pure: the caller maps the file and passes its bytes; nothing is executed, and only the
/// parts that can carry code (pickles, configurations, templates, headers) are read.
public enum ModelFileScan {
    public struct Result: Sendable, Equatable {
        public var format: ModelFileFormat
        public var findings: [ScanFinding] = []
        /// Pickles walked (a legacy PyTorch file holds several; an archive one per `.pkl`).
        public var pickles = 0
    }

    /// The most a deflated entry may inflate to before it is refused, and the most of a file
    /// searched for a Keras Lambda layer.
    public static let maximumInflated = 1 << 30, maximumSearched = 256 << 20
    /// What one archive's entries may inflate to in all: each entry is inflated within what is
    /// left of it, so no archive costs more than this however its directory lies.
    public static let maximumInflatedInAll = 4 << 30

    public static func scan(name: String, bytes: UnsafeRawBufferPointer) -> Result {
        let u8 = bytes.bindMemory(to: UInt8.self)
        let format = ModelFileFormat.detect(Array(u8.prefix(64)))
        var r = Result(format: format)
        switch format {
        case .pickle: pickles(u8, entry: nil, into: &r)
        case .numpy: numpy(u8, entry: nil, into: &r)
        case .zip: archive(u8, into: &r)
        case .safetensors: safetensors(u8, into: &r)
        case .gguf: gguf(u8, into: &r)
        case .kerasH5:
            if let at = search(u8, for: #""class_name": "Lambda""#) ?? search(u8, for: #""class_name":"Lambda""#) {
                r.findings.append(
                    ScanFinding(
                        .dangerous, offset: at, what: "keras.layers.Lambda",
                        detail: "a Lambda layer: its Python code is deserialized and run when the model is loaded"))
            }
        case .onnx:
            r.findings.append(ScanFinding(.info, what: "onnx", detail: "an ONNX graph: no code is loaded with it; custom operators and external data files are not inspected"))
        case .unknown:
            if name.hasSuffix("tokenizer_config.json") { tokenizerConfig(u8, into: &r) }
        default: break
        }
        return r
    }

    /// A raw pickle file, or a legacy PyTorch file (several pickles back to back, then the data).
    static func pickles(_ bytes: UnsafeBufferPointer<UInt8>, entry: String?, into r: inout Result) {
        var at = 0
        repeat {
            let walk = PickleScanner.scan(buffer: bytes, from: at)
            r.pickles += 1
            record(walk, base: at, entry: entry, into: &r)
            if walk.problem != nil { return }
            at += walk.length
            // Legacy PyTorch: the next pickle starts with PROTO; anything else is the tensors' bytes.
        } while at + 1 < bytes.count && bytes[at] == 0x80 && (2...5).contains(bytes[at + 1]) && r.pickles < 16
    }

    static func record(_ walk: PickleScanner.Result, base: Int, entry: String?, into r: inout Result) {
        for i in walk.imports where i.verdict != .allowed {
            let severity: ScanSeverity = i.verdict == .denied ? .dangerous : .suspicious
            let why =
                i.verdict == .denied
                ? "imports a callable that runs code, opens files or the network when the pickle is loaded"
                : "imports a callable that is not on the list of what checkpoints use"
            r.findings.append(ScanFinding(severity, entry: entry, offset: i.offset, what: i.callable, detail: "\(i.opcode) \(why)"))
        }
        let denied = walk.unlisted[.denied] ?? 0, suspicious = walk.unlisted[.suspicious] ?? 0
        if denied + suspicious > 0 {
            r.findings.append(
                ScanFinding(
                    denied > 0 ? .dangerous : .suspicious, entry: entry, what: "more-imports",
                    detail:
                        "\(denied + suspicious) more imports past the first \(PickleScanner.maximumListed), not listed one by one: \(denied) that run code, open files or the network, \(suspicious) not on the list of what checkpoints use"
                ))
        }
        if let problem = walk.problem {
            r.findings.append(ScanFinding(.malformed, entry: entry, what: "pickle", detail: "\(problem); every opcode before it runs when loaded"))
        }
    }

    /// A `.npy` array: its header says whether the data is Python objects (a pickle) or plain numbers.
    static func numpy(_ bytes: UnsafeBufferPointer<UInt8>, entry: String?, into r: inout Result) {
        guard bytes.count >= 10 else { r.findings.append(ScanFinding(.malformed, entry: entry, what: "npy", detail: "cut short before its header")); return }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        var length = 0
        for k in 0..<lengthBytes where 8 + k < bytes.count { length |= Int(bytes[8 + k]) << (8 * k) }
        let start = 8 + lengthBytes
        guard start + length <= bytes.count else { r.findings.append(ScanFinding(.malformed, entry: entry, what: "npy", detail: "its header runs past the end")); return }
        let header = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        guard header.contains("'descr': '|O'") || header.contains("'descr': 'O'") || header.contains("'descr':'|O'") else { return }
        let data = UnsafeBufferPointer(rebasing: bytes[(start + length)...])
        var inner = Result(format: .pickle)
        pickles(data, entry: entry, into: &inner)
        r.pickles += inner.pickles
        r.findings.append(
            ScanFinding(
                .suspicious, entry: entry, offset: start + length, what: "numpy-object-array",
                detail: "an array of Python objects, stored as a pickle (loading it needs allow_pickle=True)"))
        r.findings += inner.findings.map {
            var f = $0; f.offset = f.offset.map { $0 + start + length }; return f
        }
    }

    /// A zip archive: PyTorch, Keras or NumPy by its entries; every pickle in it walked.
    static func archive(_ bytes: UnsafeBufferPointer<UInt8>, into r: inout Result) {
        let directory: ZipDirectory
        do { directory = try readDirectory(bytes) } catch {
            r.findings.append(ScanFinding(.malformed, what: "zip", detail: error.description))
            return
        }
        r.format = ModelFileFormat.refine(directory)
        if directory.isBomb() {
            r.findings.append(ScanFinding(.malformed, what: "zip", detail: "refused as a zip bomb: its entries claim more than the scan inflates (64 GB in all, or 200 times their compressed size)"))
            return
        }
        var budget = maximumInflatedInAll
        for entry in directory.entries {
            let isPickle = entry.name.hasSuffix(".pkl"), isArray = entry.name.hasSuffix(".npy"), isConfig = entry.name == "config.json" && r.format == .kerasZip
            guard isPickle || isArray || isConfig else { continue }
            guard budget > 0 else {
                r.findings.append(
                    ScanFinding(
                        .malformed, entry: entry.name, what: "zip-entry",
                        detail: "not read: the archive's entries already inflated to \(maximumInflatedInAll) bytes, all the scan inflates of one archive"))
                continue
            }
            let content: [UInt8]
            do { content = try data(of: entry, in: bytes, limit: budget); budget -= content.count } catch {
                r.findings.append(ScanFinding(.malformed, entry: entry.name, what: "zip-entry", detail: error.description))
                continue
            }
            content.withUnsafeBufferPointer { entryBytes in
                if isPickle {
                    pickles(entryBytes, entry: entry.name, into: &r)
                } else if isArray {
                    numpy(entryBytes, entry: entry.name, into: &r)
                } else if search(entryBytes, for: #""class_name": "Lambda""#) != nil || search(entryBytes, for: #""class_name":"Lambda""#) != nil {
                    r.findings.append(
                        ScanFinding(
                            .dangerous, entry: entry.name, what: "keras.layers.Lambda",
                            detail: "a Lambda layer: its Python code is deserialized and run when the model is loaded"))
                }
            }
        }
    }

    static func readDirectory(_ bytes: UnsafeBufferPointer<UInt8>) throws(ZipDirectory.Problem) -> ZipDirectory {
        // The end record and directory sit at the end: read the last 1 MiB, or from where the directory says it starts.
        var from = max(0, bytes.count - (1 << 20))
        do {
            return try ZipDirectory.read(tail: Array(bytes[from...]), tailOffset: from, fileSize: bytes.count)
        } catch .tailStartsAfter(let start) {
            guard bytes.count - start <= 256 << 20 else { throw .cutShort("a central directory of more than 256 MB") }
            from = start
            return try ZipDirectory.read(tail: Array(bytes[from...]), tailOffset: from, fileSize: bytes.count)
        }
    }

    /// An entry's bytes: stored ones as they are, deflated ones inflated within the limit.
    struct EntryProblem: Error, CustomStringConvertible { var description: String }

    static func data(of entry: ZipDirectory.Entry, in bytes: UnsafeBufferPointer<UInt8>, limit: Int = maximumInflated) throws(EntryProblem) -> [UInt8] {
        let h = entry.localHeaderOffset
        guard h + 30 <= bytes.count, bytes[h] == 0x50, bytes[h + 1] == 0x4B, bytes[h + 2] == 0x03, bytes[h + 3] == 0x04 else {
            throw EntryProblem(description: "no local header at \(h)")
        }
        let start = h + 30 + (Int(bytes[h + 26]) | Int(bytes[h + 27]) << 8) + (Int(bytes[h + 28]) | Int(bytes[h + 29]) << 8)
        guard start + entry.compressedSize <= bytes.count else { throw EntryProblem(description: "its data runs past the end of the archive") }
        let raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<(start + entry.compressedSize)])
        switch entry.method {
        case 0: return Array(raw)
        case 8:
            do { return try Inflate.raw(raw, limit: min(maximumInflated, limit, max(entry.uncompressedSize, 1))) } catch {
                throw EntryProblem(description: "\(error) (it claims \(entry.uncompressedSize) bytes)")
            }
        default: throw EntryProblem(description: "compressed with method \(entry.method), which the scan does not read")
        }
    }

    /// Layout problems listed one by one per file; past this many they are counted (a header of
    /// 500,000 broken tensors once made a 92 MB answer).
    public static let maximumLayoutListed = 100

    static func safetensors(_ bytes: UnsafeBufferPointer<UInt8>, into r: inout Result) {
        let n = SafetensorsCheck.headerLength(Array(bytes.prefix(8))) ?? 0
        let head = Array(bytes.prefix(8 + min(n, SafetensorsCheck.maximumHeader)))
        let problems = SafetensorsCheck.check(head: head, fileSize: bytes.count).problems
        for problem in problems.prefix(maximumLayoutListed) {
            r.findings.append(ScanFinding(.malformed, what: "safetensors-layout", detail: problem))
        }
        if problems.count > maximumLayoutListed {
            r.findings.append(
                ScanFinding(
                    .malformed, what: "safetensors-layout",
                    detail: "\(problems.count - maximumLayoutListed) more layout problems past the first \(maximumLayoutListed), not listed one by one"))
        }
    }

    static func gguf(_ bytes: UnsafeBufferPointer<UInt8>, into r: inout Result) {
        do {
            let metadata = try GGUFMetadata.read(Array(bytes.prefix(256 << 20)))
            for condition in metadata.contentConditions {
                r.findings.append(ScanFinding(.suspicious, what: "chat-template", detail: "the chat template branches on what a message says: {% \(condition) %}"))
            }
        } catch {
            r.findings.append(ScanFinding(.malformed, what: "gguf-metadata", detail: error.description))
        }
    }

    static func tokenizerConfig(_ bytes: UnsafeBufferPointer<UInt8>, into r: inout Result) {
        guard bytes.count <= 64 << 20, case .object(let fields)? = try? JSONTreeParser.parse(Data(bytes), maximumDepth: 64) else { return }
        var templates: [String] = []
        switch fields["chat_template"] {
        case .string(let t)?: templates = [t]
        case .array(let named)?: for case .object(let o) in named { if case .string(let t)? = o["template"] { templates.append(t) } }
        default: break
        }
        for condition in templates.flatMap(ChatTemplateCheck.contentConditions) {
            r.findings.append(ScanFinding(.suspicious, what: "chat-template", detail: "the chat template branches on what a message says: {% \(condition) %}"))
        }
    }

    /// The first offset of `needle` in the first `maximumSearched` bytes.
    static func search(_ bytes: UnsafeBufferPointer<UInt8>, for needle: String) -> Int? {
        let n = Array(needle.utf8)
        guard let first = n.first, bytes.count >= n.count else { return nil }
        let end = min(bytes.count, maximumSearched) - n.count
        var i = 0
        while i <= end {
            if bytes[i] == first {
                var k = 1
                while k < n.count && bytes[i + k] == n[k] { k += 1 }
                if k == n.count { return i }
            }
            i += 1
        }
        return nil
    }
}
