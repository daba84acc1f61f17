import Dispatch
import Foundation

/// Reads OTLP/JSON traces — an `ExportTraceServiceRequest` as the OpenTelemetry Collector's file
/// exporter writes it (one document, or one per line) and as OTLP/HTTP posts it — for what agents
/// did, by the GenAI semantic conventions: the tools they executed (`gen_ai.tool.name`), the hosts
/// they called (`server.address`, `url.full`), the models they used (`gen_ai.request.model`,
/// `gen_ai.response.model`) and, when content capture is on, what they were asked
/// (`gen_ai.input.messages`). A span without an agent of its own belongs to the nearest ancestor
/// in its trace that has one (`gen_ai.agent.name`, else `gen_ai.agent.id`).
public enum OTLPTraceReader {
    /// What an import keeps of a trace: the agent, what it did, and the start of its input text.
    public struct Trace: Sendable, Equatable {
        public var id: String
        public var agent: String
        public var calls: [Call]
        public var input: String
        public init(id: String, agent: String, calls: [Call], input: String) { (self.id, self.agent, self.calls, self.input) = (id, agent, calls, input) }
    }

    public struct Call: Sendable, Hashable {
        public var kind: ObservedKind
        public var target: String
        public var time: Date
        public init(kind: ObservedKind, target: String, time: Date) { (self.kind, self.target, self.time) = (kind, target, time) }
    }

    public struct Result: Sendable {
        public var traces: [Trace] = []
        public var spans = 0
        /// Spans or lines skipped, by kind, and the first few named.
        public var skipped: [String: Int] = [:]
        public var firstSkipped: [String] = []
        /// The spans read, as a digest of their (trace id, span id) pairs that does not depend on
        /// their order or on how they were cut into lines: the same spans, the same digest.
        public var digest: String = ""
        /// Spans kept that were imported before, and so not counted again.
        public var alreadySeen = 0
    }

    /// Attribute values past this many bytes are not read (a captured prompt can be megabytes).
    public static let maximumValue = 64 << 10
    /// Input text kept per trace, for trigger mining.
    public static let maximumInput = 2048

    struct Span {
        var trace: String, id: String, parent: String
        /// The first of `idHashes(trace, id)`: what identifies the span once imported.
        var key: Int64 = 0
        var agent: String?, tool: String?, host: String?, model: String?, input: String?
        var time: Date
    }

    /// Reads `data` (named `file` in problems): one OTLP/JSON document or JSON lines of them.
    /// JSON lines are cut into parts read on every core (a fixed number, so that the result does
    /// not depend on the machine), and merged in file order.
    public static func read(_ data: Data, file: String) -> Result { parse(data, file: file).assembled() }

    /// What a file held before its spans are made into traces: the counts, and each span kept.
    public struct Parsed: Sendable {
        public var result: Result
        var spans: [Span]
        let file: String

        /// Each kept span's start time and key (a 64-bit hash of its trace and span ids), in file
        /// order: what identifies a span already imported.
        public var spanKeys: (times: [Date], keys: [Int64]) {
            (spans.map(\.time), spans.map(\.key))
        }

        /// The agents the spans name (a trace's agent is one of its spans' own).
        public var agentNames: Set<String> { Set(spans.compactMap(\.agent)) }

        /// The traces, from the spans kept but those at `seen` (indices into `spanKeys`): spans
        /// imported before count nothing twice.
        public func assembled(skipping seen: Set<Int> = []) -> Result {
            var r = result
            r.alreadySeen = seen.count
            // Spans grouped by trace in the order traces first appear in the file (a counting sort into
            // one array: a million traces as a dictionary of arrays, sorted by id, was a fifth of an import).
            var groupOf: [String: Int] = [:]
            groupOf.reserveCapacity(spans.count - seen.count)
            var group = [Int](repeating: -1, count: spans.count), sizes = [Int]()
            for (i, s) in spans.enumerated() where !seen.contains(i) {
                let g: Int
                if let known = groupOf[s.trace] { g = known } else { g = sizes.count; groupOf[s.trace] = g; sizes.append(0) }
                group[i] = g
                sizes[g] += 1
            }
            groupOf = [:]
            var starts = [Int](repeating: 0, count: sizes.count + 1)
            for g in sizes.indices { starts[g + 1] = starts[g] + sizes[g] }
            var next = starts
            let ordered = [Span](unsafeUninitializedCapacity: starts.last ?? 0) { buffer, count in
                for (i, s) in spans.enumerated() where group[i] >= 0 {
                    (buffer.baseAddress! + next[group[i]]).initialize(to: s)
                    next[group[i]] += 1
                }
                count = starts.last ?? 0
            }
            r.traces = OTLPTraceReader.assemble(ordered, starts: starts) { kind, why in
                r.skipped[kind, default: 0] += 1
                if r.firstSkipped.count < 5 { r.firstSkipped.append("\(file): \(why)") }
            }
            return r
        }
    }

    /// Reads `data` without making traces of its spans yet (`Parsed.assembled`).
    public static func parse(_ data: Data, file: String) -> Parsed {
        var r = Result()
        var parts: [Part] = []
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            if isJSONLines(bytes) {
                let ranges = LineRanges.cut(raw, into: 4)
                var read = [Part?](repeating: nil, count: ranges.count)
                nonisolated(unsafe) let whole = raw
                read.withUnsafeMutableBufferPointer { out in
                    nonisolated(unsafe) let out = out
                    DispatchQueue.concurrentPerform(iterations: ranges.count) { p in
                        var part = Part()
                        LineRanges.lines(whole, ranges[p]) { line, number, _ in part.line(line, number: number) }
                        out[p] = part
                    }
                }
                parts = read.compactMap { $0 }
                // Line numbers within a part are made whole: each part starts after the lines before it.
                var before = 0
                for p in parts.indices {
                    parts[p].firstSkipped = parts[p].firstSkipped.map { ($0.line + before, $0.why) }
                    before += parts[p].lines
                }
            } else {
                var part = Part()
                part.document(bytes)
                parts = [part]
            }
        }
        var sumA: UInt64 = 0, sumB: UInt64 = 0, kept = 0
        for part in parts {
            sumA &+= part.sumA
            sumB ^= part.sumB
            kept += part.read.count
            r.spans += part.spans
            for (k, v) in part.skipped { r.skipped[k, default: 0] += v }
            for (line, why) in part.firstSkipped where r.firstSkipped.count < 5 {
                r.firstSkipped.append(line > 0 ? "\(file): line \(line): \(why)" : "\(file): \(why)")
            }
        }
        r.digest = String(format: "spans:%d:%016llx%016llx", kept, sumA, sumB)
        var spans: [Span] = []
        spans.reserveCapacity(kept)
        for p in parts.indices { spans += parts[p].read; parts[p].read = [] }
        return Parsed(result: r, spans: spans, file: file)
    }

    /// One JSON document per line: the first line that is not blank parses as JSON on its own.
    static func isJSONLines(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let end = bytes.firstIndex(of: 0x0A), end < bytes.count - 1 else { return false }
        let first = UnsafeBufferPointer(rebasing: bytes[..<end])
        guard first.contains(where: { $0 > 0x20 }) else { return false }
        return (try? JSONTreeParser.parse(Data(first), maximumDepth: 64)) != nil
    }

    /// What one part of the input held: spans read, and what was skipped.
    struct Part {
        var read: [Span] = []
        /// Values already judged for secret material (a host or tool repeats on most spans).
        var judged: [String: String?] = [:]
        var spans = 0, lines = 0
        /// Order-independent sums of two hashes of each span read's ids.
        var sumA: UInt64 = 0, sumB: UInt64 = 0
        var skipped: [String: Int] = [:]
        var firstSkipped: [(line: Int, why: String)] = []

        mutating func skip(_ kind: String, line: Int, _ why: String) {
            skipped[kind, default: 0] += 1
            if firstSkipped.count < 5 { firstSkipped.append((line, why)) }
        }

        /// Where a request began, to take it back when it turns out broken. (Not a copy of the
        /// part: the copy would share `read`, and the next append would copy all of it.)
        struct Mark { var read: Int, spans: Int, sumA: UInt64, sumB: UInt64, skipped: [String: Int], firstSkipped: Int }
        var mark: Mark { Mark(read: read.count, spans: spans, sumA: sumA, sumB: sumB, skipped: skipped, firstSkipped: firstSkipped.count) }

        mutating func restore(_ m: Mark) {
            read.removeLast(read.count - m.read)
            (spans, sumA, sumB, skipped) = (m.spans, m.sumA, m.sumB, m.skipped)
            firstSkipped.removeLast(firstSkipped.count - m.firstSkipped)
        }

        mutating func keep(_ s: Span) {
            let (a, b) = OTLPTraceReader.idHashes(s.trace, s.id)
            sumA &+= a
            sumB ^= b
            var s = s
            s.key = Int64(bitPattern: a)
            read.append(s)
        }

        /// One JSON line: a request, read whole or not at all (a line broken part way through
        /// leaves none of its spans behind).
        mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, number: Int) {
            lines = number
            guard bytes.contains(where: { $0 > 0x20 }) else { return }
            let before = mark
            var c = JSONCursor(bytes: bytes, maximumDepth: 64)
            do throws(SyntaxError) {
                let found = try OTLPTraceReader.decodeRequest(&c, into: &self, line: number)
                if c.peek() != nil { throw c.error("unexpected content after the document") }
                if !found {
                    restore(before)
                    skip("not-otlp", line: number, "not an OTLP/JSON ExportTraceServiceRequest (no resourceSpans)")
                }
            } catch {
                restore(before)
                skip("not-otlp", line: number, "not an OTLP/JSON ExportTraceServiceRequest (not JSON: \(error.description))")
            }
        }

        /// One document: read whole or not at all, like a line.
        mutating func document(_ bytes: UnsafeBufferPointer<UInt8>) {
            let before = mark
            var c = JSONCursor(bytes: bytes, maximumDepth: 64)
            do throws(SyntaxError) {
                let found = try OTLPTraceReader.decodeRequest(&c, into: &self, line: 0)
                if c.peek() != nil { throw c.error("unexpected content after the document") }
                if !found {
                    restore(before)
                    skip("not-otlp", line: 0, "no resourceSpans: not an OTLP/JSON ExportTraceServiceRequest")
                }
            } catch {
                restore(before)
                skip("not-otlp", line: 0, "not JSON (\(error.description))")
            }
        }
    }

    struct Problem: Error { var kind: String; var why: String }

    /// Two FNV-1a hashes (different offsets) of a span's trace id and span id: stable across runs
    /// and machines, unlike Swift's seeded `Hasher`.
    static func idHashes(_ trace: String, _ id: String) -> (UInt64, UInt64) {
        var a: UInt64 = 0xcbf29ce484222325, b: UInt64 = 0x84222325cbf29ce4
        for byte in trace.utf8 { a = (a ^ UInt64(byte)) &* 0x100000001b3; b = (b ^ UInt64(byte)) &* 0x100000001b3 }
        a = (a ^ 0x7C) &* 0x100000001b3; b = (b ^ 0x2F) &* 0x100000001b3
        for byte in id.utf8 { a = (a ^ UInt64(byte)) &* 0x100000001b3; b = (b ^ UInt64(byte)) &* 0x100000001b3 }
        return (a, b)
    }

    /// An attribute's value as text: strings as they are, numbers written out, arrays of strings joined.
    static func attributeText(_ value: DocumentValue?) -> String? {
        guard case .object(let v)? = value else { return nil }
        if case .string(let s)? = v["stringValue"] { return s }
        if case .string(let s)? = v["intValue"] { return s }
        if case .int(let i)? = v["intValue"] { return String(i) }
        if case .object(let array)? = v["arrayValue"], case .array(let values)? = array["values"] {
            return values.compactMap { attributeText($0) }.joined(separator: "\n")
        }
        return nil
    }

    /// The text of captured input messages (a JSON list of `{role, parts: [{type: text, content}]}`
    /// or `{role, content}`), or the value as it is when it is not such a list.
    static func inputText(_ raw: String) -> String {
        guard case .array(let messages)? = try? JSONTreeParser.parse(Data(raw.utf8), maximumDepth: 16) else { return String(raw.prefix(maximumInput)) }
        var out: [String] = []
        for case .object(let m) in messages {
            if case .string("assistant")? = m["role"] { continue }
            if case .string(let c)? = m["content"] { out.append(c) }
            if case .array(let parts)? = m["parts"] { for case .object(let p) in parts { if case .string(let c)? = p["content"] { out.append(c) } } }
        }
        return String(out.joined(separator: "\n").prefix(maximumInput))
    }

    /// Nanoseconds since 1970 (a string, as OTLP/JSON writes 64-bit integers, or a number), within 1970–2100.
    static func nanoseconds(_ value: DocumentValue?) -> Date? {
        let n: Double?
        switch value {
        case .string(let s)?: n = Double(s)
        case .int(let i)?: n = Double(i)
        case .double(let d)?: n = d
        default: n = nil
        }
        guard let n, n > 0, n < 4_102_444_800e9 else { return nil }
        return Date(timeIntervalSince1970: (n / 1e9).rounded(.down))
    }

    /// Each trace's spans given their agent (their own, or the nearest ancestor's), then reduced to
    /// what the agents did. A span no agent can be found for is counted and left out.
    /// `all`: the spans grouped by trace; trace `g` is `all[starts[g]..<starts[g + 1]]`.
    static func assemble(_ all: [Span], starts: [Int], skip: (String, String) -> Void) -> [Trace] {
        var out: [Trace] = []
        out.reserveCapacity(starts.count)
        for g in 0..<max(0, starts.count - 1) {
            let spans = all[starts[g]..<starts[g + 1]]
            guard let id = spans.first?.trace else { continue }
            // A trace of one span (an exporter that cuts traces up, a browser's single calls) needs no ancestry.
            if spans.count == 1, let s = spans.first {
                guard let a = s.agent else {
                    if s.tool != nil || s.host != nil || s.model != nil { skip("span-without-agent", "trace \(id), span \(s.id): no gen_ai.agent.name or id on it or its ancestors") }
                    continue
                }
                var calls: [Call] = []
                if let h = s.host { calls.append(Call(kind: .host, target: RuntimeEnvelope.hostOnly(h), time: s.time)) }
                if let m = s.model { calls.append(Call(kind: .model, target: m, time: s.time)) }
                if let t = s.tool { calls.append(Call(kind: .tool, target: t, time: s.time)) }
                out.append(Trace(id: id, agent: a, calls: calls, input: String((s.input ?? "").prefix(maximumInput))))
                continue
            }
            // Small traces (nearly all) find parents by a scan; large ones through a dictionary.
            let byID = spans.count > 32 ? Dictionary(spans.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
            func parent(of s: Span) -> Span? {
                guard !s.parent.isEmpty else { return nil }
                return spans.count > 32 ? byID[s.parent] : spans.first { $0.id == s.parent }
            }
            func agent(of span: Span) -> String? {
                var s = span, hops = 0
                while s.agent == nil, hops < 64, let p = parent(of: s) { s = p; hops += 1 }
                return s.agent
            }
            var perAgent: [String: (calls: Set<Call>, input: String)] = [:]
            for s in spans {
                guard let a = agent(of: s) else {
                    if s.tool != nil || s.host != nil || s.model != nil { skip("span-without-agent", "trace \(id), span \(s.id): no gen_ai.agent.name or id on it or its ancestors") }
                    continue
                }
                var entry = perAgent[a] ?? ([], "")
                if let t = s.tool { entry.calls.insert(Call(kind: .tool, target: t, time: s.time)) }
                if let h = s.host { entry.calls.insert(Call(kind: .host, target: RuntimeEnvelope.hostOnly(h), time: s.time)) }
                if let m = s.model { entry.calls.insert(Call(kind: .model, target: m, time: s.time)) }
                if let i = s.input, entry.input.utf8.count < maximumInput {
                    entry.input = String((entry.input.isEmpty ? i : entry.input + "\n" + i).prefix(maximumInput))
                }
                perAgent[a] = entry
            }
            for (a, entry) in perAgent.sorted(by: { $0.key < $1.key }) {
                out.append(
                    Trace(
                        id: id, agent: a, calls: entry.calls.sorted { ($0.kind.rawValue, $0.target, $0.time) < ($1.kind.rawValue, $1.target, $1.time) },
                        input: entry.input))
            }
        }
        return out
    }
}

/// What an agent was seen calling.
public enum ObservedKind: String, Sendable, Codable, CaseIterable {
    case tool, host, model
}
