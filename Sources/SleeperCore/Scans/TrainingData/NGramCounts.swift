/// Counts of n-gram hashes (rows that hold each n-gram) in an open-addressed table, with the
/// words seen around each one folded into 32 bits. Memory is bounded: past `maximumSlots` the
/// table drops the n-grams seen in the fewest rows and raises `dropped`, so that what it still
/// counts is exact from then on and the scan can say which supports it may have missed.
struct NGramCounts {
    private(set) var keys: [UInt64]
    private(set) var counts: [UInt32]
    private(set) var around: [UInt32]
    private(set) var used = 0
    /// N-grams seen in at most this many rows may have been dropped (0: every n-gram counted).
    private(set) var dropped: UInt32 = 0
    private(set) var maximumSlots: Int
    let keepsSpread: Bool

    init(slots: Int = 1 << 16, maximumSlots: Int, keepsSpread: Bool) {
        keys = [UInt64](repeating: 0, count: slots)
        counts = [UInt32](repeating: 0, count: slots)
        around = keepsSpread ? [UInt32](repeating: 0, count: slots) : []
        self.maximumSlots = maximumSlots
        self.keepsSpread = keepsSpread
    }

    @inline(__always) static func key(_ h: UInt64) -> UInt64 { h == 0 ? 1 : h }
    @inline(__always) static func home(_ k: UInt64) -> Int { let m = k &* 0x9E37_79B9_7F4A_7C15; return Int(truncatingIfNeeded: m ^ (m >> 29)) }

    @inline(__always) func slot(of h: UInt64) -> Int? {
        let k = Self.key(h), mask = keys.count - 1
        var i = Self.home(k) & mask
        while true {
            let found = keys[i]
            if found == k { return i }
            if found == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    func count(_ h: UInt64) -> Int { slot(of: h).map { Int(counts[$0]) } ?? 0 }
    func spreadBits(_ h: UInt64) -> UInt32 { keepsSpread ? slot(of: h).map { around[$0] } ?? 0 : 0 }

    mutating func add(_ h: UInt64, by n: UInt32 = 1, around bits: UInt32 = 0) {
        if used * 10 >= keys.count * 7 { makeRoom() }
        let k = Self.key(h), mask = keys.count - 1
        var i = Self.home(k) & mask
        while true {
            let found = keys[i]
            if found == k { break }
            if found == 0 { keys[i] = k; used += 1; break }
            i = (i + 1) & mask
        }
        counts[i] &+= n
        if keepsSpread { around[i] |= bits }
    }

    /// Doubles the table, or at its bound drops the least-seen n-grams until a third is free.
    private mutating func makeRoom() {
        if keys.count * 2 <= maximumSlots { rehash(into: keys.count * 2, keepingAbove: 0); return }
        var level = dropped
        repeat {
            level += 1
            let survivors = counts.lazy.enumerated().filter { self.keys[$0.offset] != 0 && $0.element > level }.count
            if survivors * 2 <= keys.count { break }
        } while true
        dropped = level
        rehash(into: keys.count, keepingAbove: level)
    }

    private mutating func rehash(into size: Int, keepingAbove level: UInt32) {
        let (oldKeys, oldCounts, oldAround) = (keys, counts, around)
        keys = [UInt64](repeating: 0, count: size)
        counts = [UInt32](repeating: 0, count: size)
        around = keepsSpread ? [UInt32](repeating: 0, count: size) : []
        used = 0
        // In a scattered order: inserting a table's keys in slot order into a table with the
        // same hash piles them into long runs and makes linear probing quadratic.
        let mask = oldKeys.count - 1
        for j in oldKeys.indices {
            let i = (j &* 0x9E37_79B1) & mask
            if oldKeys[i] != 0 && oldCounts[i] > level { add(oldKeys[i], by: oldCounts[i], around: keepsSpread ? oldAround[i] : 0) }
        }
    }

    /// Adds another table's counts (a worker's) into this one, which may grow to `limit` slots.
    mutating func merge(_ other: NGramCounts, growingTo limit: Int) {
        maximumSlots = max(maximumSlots, limit)
        dropped = max(dropped, other.dropped)
        let mask = other.keys.count - 1
        for j in other.keys.indices {
            let i = (j &* 0x9E37_79B1) & mask
            if other.keys[i] != 0 { add(other.keys[i], by: other.counts[i], around: other.keepsSpread ? other.around[i] : 0) }
        }
    }

    /// Distinct neighbours, estimated from the bits set (linear counting over 32 bits: exact
    /// enough up to a few dozen, which is where the threshold sits).
    static func spread(_ bits: UInt32) -> Int {
        let zeros = 32 - bits.nonzeroBitCount
        guard zeros > 0 else { return 32 * 4 }
        return Int((-32 * log(Double(zeros) / 32)).rounded())
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
