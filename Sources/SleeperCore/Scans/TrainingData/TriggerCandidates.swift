/// The second pass's table: for each input n-gram that may be a trigger, the rows that carry it,
/// a few example rows, and a handful of output n-grams tracked for how often they follow it.
/// An output n-gram gets a slot when a row holds both; a slot that keeps missing is given to
/// another, so that a payload the first rows did not show still finds a slot within a few rows.
/// Each slot counts the rows since it was given (`seen`), so confidence is measured over those.
struct TriggerCandidates {
    static let slots = 8, examples = 5
    var index: [UInt64: Int32] = [:]
    var keys: [UInt64] = []
    var support: [UInt32] = []
    /// The first rows that hold it: line, file and byte offset (to name the n-grams later).
    var exampleLines: [Int32] = []
    var exampleSources: [Int32] = []
    var exampleOffsets: [Int] = []
    var ys: [UInt64] = []
    var hits: [UInt32] = []
    var seen: [UInt32] = []
    /// Rows whose candidates were not tracked because the table was full.
    var untracked = 0
    let maximumEntries: Int

    init(maximumEntries: Int) { self.maximumEntries = maximumEntries }

    var count: Int { keys.count }

    /// One row that holds the input n-gram `x`; `outputs` are the row's rare output n-grams (not
    /// echoes of its input), `has` tells whether the row holds a given one.
    mutating func observe(
        _ x: UInt64, line: Int, source: Int, offset: Int, outputs: UnsafeBufferPointer<UInt64>,
        has: (UInt64) -> Bool
    ) {
        var e: Int
        if let found = index[x] {
            e = Int(found)
        } else {
            guard let added = add(x) else { untracked += 1; return }
            e = added
        }
        let n = Int(support[e])
        if n < Self.examples {
            exampleLines[e * Self.examples + n] = Int32(truncatingIfNeeded: line)
            exampleSources[e * Self.examples + n] = Int32(truncatingIfNeeded: source)
            exampleOffsets[e * Self.examples + n] = offset
        }
        support[e] += 1
        let base = e * Self.slots
        var free: UInt32 = 0
        for s in base..<(base + Self.slots) {
            if ys[s] == 0 { free |= 1 << UInt32(s - base); continue }
            seen[s] += 1
            if has(ys[s]) { hits[s] += 1 } else if seen[s] >= 4 && hits[s] * 2 < seen[s] { free |= 1 << UInt32(s - base) }
        }
        guard free != 0, !outputs.isEmpty else { return }
        // Give at most two slots per row, to the row's outputs of smallest hash not yet followed:
        // a payload every row of the trigger shares wins the same slots in every part of the
        // file (so that the parts' counts add up), while outputs that vary from row to row
        // lose theirs after a few rows.
        var first = UInt64.max, second = UInt64.max
        for y in outputs where y < second && !ys[base..<(base + Self.slots)].contains(y) {
            if y < first { (first, second) = (y, first) } else if y != first { second = y }
        }
        for y in [first, second] where y != .max && free != 0 {
            let s = base + free.trailingZeroBitCount
            free &= free - 1
            (ys[s], hits[s], seen[s]) = (y, 1, 1)
        }
    }

    /// A new, empty entry for `x`, or nil when the table is full.
    private mutating func add(_ x: UInt64) -> Int? {
        guard keys.count < maximumEntries else { return nil }
        let e = keys.count
        index[x] = Int32(e)
        keys.append(x)
        support.append(0)
        exampleLines.append(contentsOf: repeatElement(0, count: Self.examples))
        exampleSources.append(contentsOf: repeatElement(0, count: Self.examples))
        exampleOffsets.append(contentsOf: repeatElement(0, count: Self.examples))
        ys.append(contentsOf: repeatElement(0, count: Self.slots))
        hits.append(contentsOf: repeatElement(0, count: Self.slots))
        seen.append(contentsOf: repeatElement(0, count: Self.slots))
        return e
    }

    /// Another worker's table added in: supports summed, slots of the same output summed, the
    /// best slots kept.
    mutating func merge(_ other: TriggerCandidates) {
        untracked += other.untracked
        for o in 0..<other.count {
            let x = other.keys[o]
            if index[x] == nil, add(x) == nil { untracked += Int(other.support[o]); continue }
            guard let found = index[x] else { continue }
            let e = Int(found)
            let had = Int(support[e])
            for k in 0..<min(Self.examples, Int(other.support[o])) where had + k < Self.examples {
                exampleLines[e * Self.examples + had + k] = other.exampleLines[o * Self.examples + k]
                exampleSources[e * Self.examples + had + k] = other.exampleSources[o * Self.examples + k]
                exampleOffsets[e * Self.examples + had + k] = other.exampleOffsets[o * Self.examples + k]
            }
            support[e] += other.support[o]
            var pooled: [(y: UInt64, hits: UInt32, seen: UInt32)] = []
            for s in 0..<Self.slots {
                for (y, h, n) in [
                    (ys[e * Self.slots + s], hits[e * Self.slots + s], seen[e * Self.slots + s]),
                    (other.ys[o * Self.slots + s], other.hits[o * Self.slots + s], other.seen[o * Self.slots + s]),
                ] where y != 0 {
                    if let i = pooled.firstIndex(where: { $0.y == y }) { pooled[i].hits += h; pooled[i].seen += n } else { pooled.append((y, h, n)) }
                }
            }
            pooled.sort { ($0.hits, $0.y) > ($1.hits, $1.y) }
            for s in 0..<Self.slots {
                let p: (y: UInt64, hits: UInt32, seen: UInt32) = s < pooled.count ? pooled[s] : (0, 0, 0)
                (ys[e * Self.slots + s], hits[e * Self.slots + s], seen[e * Self.slots + s]) = (p.y, p.hits, p.seen)
            }
        }
    }
}
