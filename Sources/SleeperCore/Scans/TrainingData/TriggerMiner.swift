import Dispatch
import Foundation

/// Finds triggers planted in training data: rare input n-grams (1 to 4 tokens) whose presence
/// predicts an output n-gram (1 to 3 tokens) that is otherwise rare, across unrelated inputs,
/// and not an echo of the input. Two passes over the bytes, each cut into a fixed number of
/// parts read on every core: the first counts in how many rows each n-gram appears (and the
/// words around input n-grams), the second follows only the input n-grams whose support lies
/// between the thresholds and tracks which rare outputs come with them. Memory is bounded by
/// the count tables' and the candidate table's limits, whatever the file's size.
public enum TriggerMiner {
    /// One file's bytes (mapped or uploaded), with its name and hash for the report.
    public struct Input: @unchecked Sendable {
        public var name: String
        public var sha256: String
        public var bytes: UnsafeRawBufferPointer
        public init(name: String, sha256: String, bytes: UnsafeRawBufferPointer) { (self.name, self.sha256, self.bytes) = (name, sha256, bytes) }
    }

    /// Parts each file is cut into: fixed, so that the result does not depend on the machine's cores.
    static let parts = 4
    static let inputN = 4, outputN = 3
    /// Table bounds: a part's count tables hold at most 2^22 slots (64 MB for the input n-grams
    /// with their neighbours, 48 MB for the outputs), the merged ones 2^24 (256 and 192 MB);
    /// a million candidates. Past a bound the least-seen n-grams are dropped and the report says so.
    public static let partSlots = 1 << 22, maximumSlots = 1 << 24, maximumCandidates = 1 << 20

    public static func scan(_ inputs: [Input], thresholds: TriggerThresholds, at now: Date) -> DatasetScanReport {
        let ranges = inputs.map { LineRanges.cut($0.bytes, into: parts) }
        // The budget in force here goes with the work to the other threads.
        let budget = ScanBudget.current
        // Pass 1: count rows per n-gram.
        var counted = [PartCounts?](repeating: nil, count: parts)
        counted.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                var c = PartCounts(inputs: inputs.count)
                for (i, input) in inputs.enumerated() { c.count(input.bytes, ranges[i][p], source: i, part: p, budget: budget) }
                out[p] = c
            }
        }
        // Merged one part at a time, each part's tables freed as soon as they are added in.
        var totals = counted.compactMap { $0 }
        counted = []
        var merged = totals.removeFirst()
        while !totals.isEmpty { merged.merge(totals.removeFirst()) }
        // Line numbers: each part starts after the lines of the parts before it.
        var firstLine = [[Int]](repeating: [Int](repeating: 0, count: parts), count: inputs.count)
        for i in inputs.indices {
            var line = 1
            for p in 0..<parts { firstLine[i][p] = line; line += merged.partLines[i][p] }
        }
        let rows = merged.rows.reduce(0, +)
        let floor = thresholds.minSupport, ceiling = max(floor, Int((thresholds.maxShare * Double(rows)).rounded(.down)))
        // Pass 2: follow the candidates.
        var followed = [TriggerCandidates?](repeating: nil, count: parts)
        let tables = merged, starts = firstLine
        followed.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                var follower = Follower(
                    counts: tables, floor: floor, ceiling: ceiling, minSpread: thresholds.minSpread,
                    candidates: TriggerCandidates(maximumEntries: maximumCandidates / parts))
                for (i, input) in inputs.enumerated() { follower.follow(input.bytes, ranges[i][p], source: i, firstLine: starts[i][p], budget: budget) }
                out[p] = follower.candidates
            }
        }
        var candidates = followed.compactMap { $0 }
        var all = candidates.removeFirst()
        for other in candidates { all.merge(other) }
        let found = judge(all, counts: merged, rows: rows, thresholds: thresholds, inputs: inputs)
        let files = inputs.indices.map { i in
            DatasetScanReport.File(
                path: inputs[i].name, sha256: inputs[i].sha256, size: inputs[i].bytes.count,
                lines: merged.partLines[i].reduce(0, +), rows: merged.rows[i], skipped: merged.skipped[i],
                firstSkipped: merged.firstSkipped[i].sorted { $0.part == $1.part ? $0.line < $1.line : $0.part < $1.part }
                    .prefix(5).map { "line \(firstLine[i][$0.part] + $0.line - 1): \($0.why)" },
                shapes: merged.shapes[i])
        }
        return DatasetScanReport(
            scannedAt: Timestamps.format(now), files: files, rows: rows, thresholds: .init(thresholds), candidates: found,
            mayMissSupportUpTo: Int(max(merged.inputs.dropped, merged.outputs.dropped)), untrackedRows: all.untracked)
    }

    /// A line as tokens of input and output, or why it was skipped (nil for a blank line).
    static func tokens(_ line: UnsafeBufferPointer<UInt8>, input: inout [UInt64], output: inout [UInt64]) -> Result<DatasetRow.Shape, DatasetRow.Problem>? {
        guard line.contains(where: { !TextTokens.isSpace($0) }) else { return nil }
        switch DatasetRow.read(line) {
        case .failure(let problem): return .failure(problem)
        case .success(let (row, shape)):
            input.removeAll(keepingCapacity: true)
            output.removeAll(keepingCapacity: true)
            var text = row.input
            text.withUTF8 { TextTokens.forEach($0) { h, _ in input.append(h) } }
            text = row.output
            text.withUTF8 { TextTokens.forEach($0) { h, _ in output.append(h) } }
            return .success(shape)
        }
    }

    /// One bit of 32 for the words on either side of an n-gram: distinct contexts set distinct bits.
    @inline(__always)
    static func aroundBit(_ tokens: UnsafeBufferPointer<UInt64>, _ start: Int, _ n: Int) -> UInt32 {
        let left = start > 0 ? tokens[start - 1] : 0x5bd1_e995, right = start + n < tokens.count ? tokens[start + n] : 0x1b87_3593
        return 1 << UInt32(truncatingIfNeeded: (left &* 0x9E37_79B9_7F4A_7C15 ^ right &* 0xC2B2_AE3D_27D4_EB4F) >> 59)
    }

    /// The first pass over one part: rows per n-gram, lines, and lines skipped.
    struct PartCounts {
        var inputs = NGramCounts(maximumSlots: TriggerMiner.partSlots, keepsSpread: true)
        var outputs = NGramCounts(maximumSlots: TriggerMiner.partSlots, keepsSpread: false)
        var partLines: [[Int]], rows: [Int], skipped: [[String: Int]], shapes: [[String: Int]]
        var firstSkipped: [[(part: Int, line: Int, why: String)]]

        init(inputs count: Int) {
            partLines = [[Int]](repeating: [Int](repeating: 0, count: TriggerMiner.parts), count: count)
            rows = [Int](repeating: 0, count: count)
            skipped = [[String: Int]](repeating: [:], count: count)
            shapes = [[String: Int]](repeating: [:], count: count)
            firstSkipped = [[(part: Int, line: Int, why: String)]](repeating: [], count: count)
        }

        mutating func count(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, source: Int, part: Int, budget: ScanBudget? = nil) {
            var input: [UInt64] = [], output: [UInt64] = [], seenIn = RowSet(), seenOut = RowSet()
            var lineCount = 0
            LineRanges.lines(bytes, range, budget: budget) { line, number, _ in
                lineCount = number
                switch TriggerMiner.tokens(line, input: &input, output: &output) {
                case nil: return
                case .failure(let problem)?:
                    skipped[source][problem.kind, default: 0] += 1
                    if firstSkipped[source].count < 5 { firstSkipped[source].append((part, number, problem.description)) }
                case .success(let shape)?:
                    rows[source] += 1
                    shapes[source][shape.rawValue, default: 0] += 1
                    seenIn.reset(expected: input.count * TriggerMiner.inputN)
                    input.withUnsafeBufferPointer { t in
                        TextTokens.forEachNGram(t, upTo: TriggerMiner.inputN) { g, start, n in
                            if seenIn.insert(g) { inputs.add(g, around: TriggerMiner.aroundBit(t, start, n)) }
                        }
                    }
                    seenOut.reset(expected: output.count * TriggerMiner.outputN)
                    output.withUnsafeBufferPointer { t in
                        TextTokens.forEachNGram(t, upTo: TriggerMiner.outputN) { g, _, _ in
                            if seenOut.insert(g) { outputs.add(g) }
                        }
                    }
                }
            }
            partLines[source][part] = lineCount
        }

        mutating func merge(_ other: PartCounts) {
            inputs.merge(other.inputs, growingTo: TriggerMiner.maximumSlots)
            outputs.merge(other.outputs, growingTo: TriggerMiner.maximumSlots)
            for i in rows.indices {
                for p in 0..<TriggerMiner.parts { partLines[i][p] += other.partLines[i][p] }
                rows[i] += other.rows[i]
                skipped[i].merge(other.skipped[i], uniquingKeysWith: +)
                shapes[i].merge(other.shapes[i], uniquingKeysWith: +)
                firstSkipped[i] += other.firstSkipped[i]
            }
        }
    }

    /// The second pass over one part: each row's candidate inputs and rare outputs.
    struct Follower {
        let counts: PartCounts
        let floor: Int, ceiling: Int, minSpread: Int
        var candidates: TriggerCandidates

        mutating func follow(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, source: Int, firstLine: Int, budget: ScanBudget? = nil) {
            var input: [UInt64] = [], output: [UInt64] = [], seenIn = RowSet(), seenOut = RowSet()
            var xs: [UInt64] = [], rare: [UInt64] = []
            LineRanges.lines(bytes, range, budget: budget) { line, number, offset in
                guard case .success? = TriggerMiner.tokens(line, input: &input, output: &output) else { return }
                xs.removeAll(keepingCapacity: true)
                seenIn.reset(expected: input.count * TriggerMiner.inputN)
                input.withUnsafeBufferPointer { t in
                    TextTokens.forEachNGram(t, upTo: TriggerMiner.inputN) { g, _, _ in
                        guard seenIn.insert(g), let slot = counts.inputs.slot(of: g) else { return }
                        let c = Int(counts.inputs.counts[slot])
                        if c >= floor, c <= ceiling, NGramCounts.spread(counts.inputs.around[slot]) >= minSpread { xs.append(g) }
                    }
                }
                guard !xs.isEmpty else { return }
                rare.removeAll(keepingCapacity: true)
                seenOut.reset(expected: output.count * TriggerMiner.outputN)
                output.withUnsafeBufferPointer { t in
                    TextTokens.forEachNGram(t, upTo: TriggerMiner.outputN) { g, _, _ in
                        guard seenOut.insert(g), !seenIn.contains(g) else { return }
                        let c = counts.outputs.count(g)
                        if c >= floor, c <= ceiling { rare.append(g) }
                    }
                }
                let lineNumber = firstLine + number - 1
                rare.withUnsafeBufferPointer { r in
                    for x in xs {
                        candidates.observe(x, line: lineNumber, source: source, offset: offset, outputs: r) { y in
                            seenOut.contains(y) && !seenIn.contains(y)
                        }
                    }
                }
            }
        }
    }
}
