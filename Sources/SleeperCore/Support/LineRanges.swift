#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Lines of a large buffer (a JSONL dataset, OTLP JSON lines): cut into parts on line boundaries,
/// to be read on every core, and walked with `memchr` rather than byte by byte.
enum LineRanges {
    /// `parts` byte ranges that start and end on line boundaries.
    static func cut(_ bytes: UnsafeRawBufferPointer, into parts: Int) -> [Range<Int>] {
        let b = bytes.bindMemory(to: UInt8.self)
        var starts = [0]
        for p in 1..<parts {
            var at = max(starts[p - 1], b.count * p / parts)
            while at < b.count, at > 0, b[at - 1] != 0x0A { at += 1 }
            starts.append(at)
        }
        starts.append(b.count)
        return (0..<parts).map { starts[$0]..<starts[$0 + 1] }
    }

    /// Calls `body` with each line of `range` (without its newline), its number in the range
    /// (from 1) and its offset.
    /// `budget`: looked at every 4,096 lines; once spent, the walk ends there.
    @inline(__always)
    static func lines(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, budget: ScanBudget? = nil, _ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> Void) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var at = range.lowerBound, number = 0
        while at < range.upperBound {
            if number & 0xFFF == 0xFFF, budget?.stopped != nil { return }
            let rest = range.upperBound - at
            let end = memchr(base + at, 0x0A, rest).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? range.upperBound
            number += 1
            var line = UnsafeBufferPointer(start: base + at, count: end - at)
            if line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
            body(line, number, at)
            at = end + 1
        }
    }

}
