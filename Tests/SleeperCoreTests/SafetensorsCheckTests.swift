import Foundation
import SleeperCore
import Testing

/// safetensors files built in the test by the format's rules: a little-endian header length, a
/// JSON header (padded with spaces), then the tensors' bytes.
@Suite("safetensors headers", .timeLimit(.minutes(2)))
struct SafetensorsCheckTests {
    static func file(_ header: String, data: Int) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        let n = UInt64(h.count)
        return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + h + [UInt8](repeating: 7, count: data)
    }

    static func check(_ bytes: [UInt8]) -> SafetensorsCheck.Result {
        let n = SafetensorsCheck.headerLength(bytes) ?? 0
        return SafetensorsCheck.check(head: Array(bytes.prefix(8 + n)), fileSize: bytes.count)
    }

    static let good = #"{"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "b": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]}}"#

    @Test("a well-formed file: two tensors, every byte of the data indexed, its metadata read")
    func good() {
        let r = Self.check(Self.file(Self.good, data: 24))
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.tensors == 2 && r.metadata == ["format": "pt"])
    }

    @Test(
        "overlaps, holes, ranges outside the data, sizes that disagree with dtype and shape, unknown dtypes, broken headers",
        arguments: [
            (#"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}"#, 24, "overlaps"),
            (#"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}"#, 24, "bytes 16..<24 of the data belong to no tensor"),
            (#"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}}"#, 24, "bytes 0..<8 of the data belong to no tensor"),
            (#"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 32]}}"#, 24, "lie outside the 24 bytes"),
            (#"{"w": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]}}"#, 16, "(24 expected)"),
            (#"{"w": {"dtype": "F31", "shape": [4], "data_offsets": [0, 16]}}"#, 16, "unknown dtype 'F31'"),
            (#"{"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}"#, 16, "shape must be non-negative"),
            (#"{"w": {"dtype": "F32", "shape": [4]}}"#, 16, "needs dtype, shape and data_offsets"),
            (#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},}"#, 16, "not valid JSON"),
            (#"[1, 2]"#, 0, "not a JSON object"),
        ])
    func bad(header: String, data: Int, says: String) {
        let r = Self.check(Self.file(header, data: data))
        #expect(r.problems.contains { $0.contains(says) }, "\(r.problems)")
    }

    @Test("a header length longer than the file, or past the format's limit, is refused before anything is parsed")
    func lengths() {
        var f = Self.file(Self.good, data: 24)
        f[0] = 0xFF; f[1] = 0xFF
        #expect(Self.check(f).problems.first?.contains("longer than the file") == true)
        let huge: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8)
        #expect(SafetensorsCheck.check(head: huge, fileSize: 10).problems.first?.contains("more than the format allows") == true)
        #expect(SafetensorsCheck.check(head: [1, 2, 3], fileSize: 3).problems == ["shorter than the 8-byte header length"])
    }
}
