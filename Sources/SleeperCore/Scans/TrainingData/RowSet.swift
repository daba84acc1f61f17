/// The distinct n-grams of one row, cleared in O(1) between rows by a generation stamp.
struct RowSet {
    private var keys = [UInt64](repeating: 0, count: 1024)
    private var stamps = [UInt32](repeating: 0, count: 1024)
    private var stamp: UInt32 = 1

    /// Empties the set for a row of about `expected` n-grams.
    mutating func reset(expected: Int) {
        if expected * 2 > keys.count {
            var size = keys.count
            while size < expected * 2 { size *= 2 }
            keys = [UInt64](repeating: 0, count: size)
            stamps = [UInt32](repeating: 0, count: size)
            stamp = 1
        } else {
            stamp &+= 1
            if stamp == 0 { stamps = [UInt32](repeating: 0, count: stamps.count); stamp = 1 }
        }
    }

    /// Adds `h`; true when it was not there yet.
    @inline(__always) mutating func insert(_ h: UInt64) -> Bool {
        let mask = keys.count - 1
        var i = NGramCounts.home(h) & mask
        while stamps[i] == stamp {
            if keys[i] == h { return false }
            i = (i + 1) & mask
        }
        keys[i] = h
        stamps[i] = stamp
        return true
    }

    @inline(__always) func contains(_ h: UInt64) -> Bool {
        let mask = keys.count - 1
        var i = NGramCounts.home(h) & mask
        while stamps[i] == stamp {
            if keys[i] == h { return true }
            i = (i + 1) & mask
        }
        return false
    }
}
