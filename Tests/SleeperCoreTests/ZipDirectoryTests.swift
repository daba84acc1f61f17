import Foundation
import SleeperCore
import Testing

/// Zip archives written by the test as the format lays them out (local headers, data, central
/// directory, end record), the way `torch.save` stores a checkpoint: entries uncompressed (CRCs
/// left zero: the directory reader does not read them; Python's zipfile lists such an archive).
@Suite("Zip directories of checkpoints", .timeLimit(.minutes(2)))
struct ZipDirectoryTests {
    static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// `entries`: name, data, and (for a bomb) the uncompressed size and method to claim.
    static func zip(_ entries: [(String, [UInt8], claimed: Int?, method: Int)], comment: String = "") -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, data, claimed, method) in entries {
            let offset = out.count, n = Array(name.utf8)
            out +=
                le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(0, 4)
                + le(data.count, 4) + le(claimed ?? data.count, 4) + le(n.count, 2) + le(0, 2) + n + data
            central +=
                le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(0, 4)
                + le(data.count, 4) + le(claimed ?? data.count, 4) + le(n.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
                + le(offset, 4) + n
        }
        let c = Array(comment.utf8)
        return out + central + le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(entries.count, 2) + le(entries.count, 2)
            + le(central.count, 4) + le(out.count, 4) + le(c.count, 2) + c
    }

    @Test("a PyTorch-style archive: its entries, and the pickles among them, found from the central directory (behind a comment too)")
    func checkpoint() throws {
        let z = Self.zip(
            [
                ("archive/data.pkl", [0x80, 0x02, 0x2E], nil, 0), ("archive/data/0", [UInt8](repeating: 1, count: 64), nil, 0),
                ("archive/version", Array("3\n".utf8), nil, 0),
            ], comment: "made by a test")
        let d = try ZipDirectory.read(tail: z, tailOffset: 0, fileSize: z.count)
        #expect(d.entries.map(\.name) == ["archive/data.pkl", "archive/data/0", "archive/version"])
        #expect(d.pickles.map(\.name) == ["archive/data.pkl"])
        #expect(d.entries[1].uncompressedSize == 64 && d.entries[1].method == 0)
        #expect(!d.isBomb())
        // Only the tail is needed: the directory read from the last bytes with their offset; a
        // tail too short says where to read from.
        let tailStart = z.count - 200
        #expect(throws: ZipDirectory.Problem.tailStartsAfter(204)) { try ZipDirectory.read(tail: Array(z[tailStart...]), tailOffset: tailStart, fileSize: z.count) }
        #expect(try ZipDirectory.read(tail: Array(z[204...]), tailOffset: 204, fileSize: z.count) == d)
    }

    @Test("not a zip, cut short, entries pointing past the end, and claims that would inflate to a bomb")
    func refusals() throws {
        #expect(throws: ZipDirectory.Problem.notZip) { try ZipDirectory.read(tail: Array("not a zip at all, just text".utf8), tailOffset: 0, fileSize: 27) }
        let z = Self.zip([("a/data.pkl", [0x80, 0x02, 0x2E], nil, 0)])
        let cut = Array(z.dropFirst(20))
        #expect(throws: ZipDirectory.Problem.self) { try ZipDirectory.read(tail: cut, tailOffset: 0, fileSize: cut.count) }
        var lying = z
        lying[z.count - 22 + 16] = 0xF0  // the directory's offset moved past the end
        #expect(throws: ZipDirectory.Problem.self) { try ZipDirectory.read(tail: lying, tailOffset: 0, fileSize: lying.count) }
        let bomb = Self.zip([("a/data.pkl", [UInt8](repeating: 0, count: 1000), claimed: 3 << 30, method: 8)])
        #expect(try ZipDirectory.read(tail: bomb, tailOffset: 0, fileSize: bomb.count).isBomb())
    }
}
