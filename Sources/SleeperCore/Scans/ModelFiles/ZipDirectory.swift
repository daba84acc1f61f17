/// The entries of a zip archive (a PyTorch checkpoint, a `.keras` file, a NumPy `.npz`), read
/// from its central directory without decompressing anything. Sizes and offsets are checked
/// against the archive, so a crafted directory cannot send a reader outside it, and the stated
/// uncompressed sizes let a reader refuse a zip bomb before inflating a byte.
public struct ZipDirectory: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// 0 stored, 8 deflated; anything else is named, never guessed at.
        public var method: Int
        public var compressedSize: Int
        public var uncompressedSize: Int
        /// Where the entry's local header starts.
        public var localHeaderOffset: Int
        public init(name: String, method: Int, compressedSize: Int, uncompressedSize: Int, localHeaderOffset: Int) {
            (self.name, self.method, self.compressedSize, self.uncompressedSize, self.localHeaderOffset) = (name, method, compressedSize, uncompressedSize, localHeaderOffset)
        }
    }

    public var entries: [Entry]
    public init(entries: [Entry]) { self.entries = entries }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notZip, cutShort(String), zip64Unsupported
        /// The directory starts before the bytes given: read again from this offset.
        case tailStartsAfter(Int)
        public var description: String {
            switch self {
            case .notZip: "not a zip archive (no end of central directory record)"
            case .cutShort(let what): "the archive is cut short or damaged: \(what)"
            case .zip64Unsupported: "a ZIP64 archive (over 4 GB or 65,535 entries), not read"
            case .tailStartsAfter(let offset): "the central directory starts at \(offset), before the bytes read"
            }
        }
    }

    /// The most entries read: a checkpoint has a few thousand.
    public static let maximumEntries = 65_535

    /// `tail`: the archive's last bytes (the end record and the central directory: at most
    /// 64 KiB of comment plus the directory), `tailOffset`: where they start in the file,
    /// `fileSize`: the archive's length.
    public static func read(tail: [UInt8], tailOffset: Int, fileSize: Int) throws(Problem) -> ZipDirectory {
        func u16(_ at: Int) -> Int { Int(tail[at]) | Int(tail[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        // The end of central directory record: signature 0x06054b50, searched backwards.
        guard tail.count >= 22 else { throw .notZip }
        var end = -1
        var i = tail.count - 22
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4B, tail[i + 2] == 0x05, tail[i + 3] == 0x06 { end = i; break }
            i -= 1
        }
        guard end >= 0 else { throw .notZip }
        let count = u16(end + 10), size = u32(end + 12), start = u32(end + 16)
        if count == 0xFFFF || size == 0xFFFF_FFFF || start == 0xFFFF_FFFF { throw .zip64Unsupported }
        if start < tailOffset, start + size <= fileSize { throw .tailStartsAfter(start) }
        guard start + size <= fileSize, start - tailOffset + size <= tail.count else {
            throw .cutShort("the central directory (\(size) bytes at \(start)) is not inside the archive")
        }
        var entries: [Entry] = []
        var at = start - tailOffset
        for _ in 0..<min(count, maximumEntries) {
            guard at + 46 <= tail.count, u32(at) == 0x0201_4B50 else { throw .cutShort("a central directory entry at \(at + tailOffset)") }
            let nameLength = u16(at + 28), extra = u16(at + 30), comment = u16(at + 32)
            guard at + 46 + nameLength <= tail.count else { throw .cutShort("an entry's name at \(at + tailOffset)") }
            let entry = Entry(
                name: String(decoding: tail[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self), method: u16(at + 10),
                compressedSize: u32(at + 20), uncompressedSize: u32(at + 24), localHeaderOffset: u32(at + 42))
            guard entry.localHeaderOffset + 30 + entry.compressedSize <= fileSize else {
                throw .cutShort("\(entry.name) claims \(entry.compressedSize) bytes at \(entry.localHeaderOffset), past the end")
            }
            entries.append(entry)
            at += 46 + nameLength + extra + comment
        }
        // Entries whose bytes overlap (or a directory listing one local header twice) let a few
        // megabytes claim any number of gigabytes: 64 entries over one deflate stream once
        // inflated 64 GiB. Each entry's bytes must be its own.
        let spans = entries.map { (start: $0.localHeaderOffset, end: $0.localHeaderOffset + 30 + $0.compressedSize, name: $0.name) }
            .sorted { $0.start < $1.start }
        for (a, b) in zip(spans, spans.dropFirst()) where b.start < a.end {
            throw .cutShort("entries \(a.name) and \(b.name) overlap (at \(b.start), before \(a.name) ends at \(a.end))")
        }
        return ZipDirectory(entries: entries)
    }

    /// The pickles a PyTorch checkpoint loads (`*/data.pkl`, and any other `.pkl` inside).
    public var pickles: [Entry] { entries.filter { $0.name.hasSuffix(".pkl") } }

    /// Whether inflating every entry would write more than `limit` bytes, or any entry claims a
    /// compression ratio past `ratio` (a zip bomb): refused before anything is inflated.
    public func isBomb(limit: Int = 64 << 30, ratio: Int = 200) -> Bool {
        var total = 0
        for e in entries {
            total += e.uncompressedSize
            if e.method != 0, e.compressedSize > 0, e.uncompressedSize / e.compressedSize > ratio, e.uncompressedSize > 1 << 20 { return true }
        }
        return total > limit
    }
}
