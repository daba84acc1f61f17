import Foundation

/// Checks a safetensors file's header against the format's rules: an 8-byte little-endian header
/// length, a JSON object naming each tensor's dtype, shape and byte range, every range inside the
/// data, matching its dtype and shape, not overlapping another, and the data wholly indexed (a
/// hole could hide a second file in the first). Only the header is read; the tensors never are.
public enum SafetensorsCheck {
    public struct Result: Sendable, Equatable {
        public var tensors = 0
        public var problems: [String] = []
        public var metadata: [String: String] = [:]
    }

    /// The format's own limit on the header (100 MB).
    public static let maximumHeader = 100_000_000

    /// Bytes per element of each dtype the format defines.
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    /// How many bytes of the file `check` needs: the length prefix, then the header it announces.
    public static func headerLength(_ prefix: [UInt8]) -> Int? {
        guard prefix.count >= 8 else { return nil }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(prefix[k]) << (8 * UInt64(k)) }
        return n > UInt64(Int.max - 8) ? nil : Int(n)
    }

    /// `head`: the file's first `8 + headerLength` bytes (or fewer, when the file is shorter).
    public static func check(head: [UInt8], fileSize: Int) -> Result {
        var r = Result()
        guard let n = headerLength(head) else { r.problems.append("shorter than the 8-byte header length"); return r }
        guard n <= maximumHeader else { r.problems.append("announces a header of \(n) bytes, more than the format allows (\(maximumHeader))"); return r }
        guard n <= fileSize - 8, head.count >= 8 + n else { r.problems.append("announces a header of \(n) bytes, longer than the file"); return r }
        let json = Array(head[8..<(8 + n)])
        guard json.first == UInt8(ascii: "{") else { r.problems.append("the header is not a JSON object"); return r }
        let tree: DocumentValue
        do { tree = try JSONTreeParser.parse(Data(json), maximumDepth: 16) } catch {
            r.problems.append("the header is not valid JSON: \(error)")
            return r
        }
        guard case .object(let fields) = tree else { r.problems.append("the header is not a JSON object"); return r }
        let dataLength = fileSize - 8 - n
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for name in fields.keys.sorted() {
            guard let value = fields[name] else { continue }
            if name == "__metadata__" {
                guard case .object(let meta) = value else { r.problems.append("__metadata__ must map names to strings"); continue }
                for (k, v) in meta {
                    if case .string(let s) = v { r.metadata[k] = s } else { r.problems.append("__metadata__.\(k) must be a string") }
                }
                continue
            }
            r.tensors += 1
            guard case .object(let t) = value, case .string(let dtype)? = t["dtype"], case .array(let shape)? = t["shape"],
                case .array(let offsets)? = t["data_offsets"], offsets.count == 2,
                case .int(let begin) = offsets[0], case .int(let end) = offsets[1]
            else {
                r.problems.append("\(name): needs dtype, shape and data_offsets [begin, end]")
                continue
            }
            guard let size = dtypeSizes[dtype] else { r.problems.append("\(name): unknown dtype '\(dtype)'"); continue }
            var elements = 1, shapeOK = true
            for d in shape {
                guard case .int(let v) = d, v >= 0 else { shapeOK = false; break }
                let (product, overflow) = elements.multipliedReportingOverflow(by: v)
                if overflow { shapeOK = false; break }
                elements = product
            }
            guard shapeOK else { r.problems.append("\(name): shape must be non-negative whole numbers"); continue }
            guard begin >= 0, begin <= end, end <= dataLength else {
                r.problems.append("\(name): bytes \(begin)..<\(end) lie outside the \(dataLength) bytes of data")
                continue
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: size)
            if overflow || expected != end - begin {
                r.problems.append("\(name): \(end - begin) bytes for \(dtype) \(shape.count)-d shape of \(elements) elements (\(overflow ? "overflow" : String(expected)) expected)")
            }
            ranges.append((begin, end, name))
        }
        // Sorted by start, each range must begin where the one before ended: no overlap, no hole.
        var at = 0
        for range in ranges.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if range.begin < at { r.problems.append("\(range.name): overlaps the tensor before it (bytes \(range.begin)..<\(range.end))") }
            if range.begin > at { r.problems.append("bytes \(at)..<\(range.begin) of the data belong to no tensor") }
            at = max(at, range.end)
        }
        if at < dataLength { r.problems.append("bytes \(at)..<\(dataLength) of the data belong to no tensor") }
        return r
    }
}
