import CZlib

/// Raw DEFLATE (zip method 8) inflated with the system's zlib, never past `limit` bytes: an
/// entry that inflates to more than it claimed, or more than the scan allows, is refused rather
/// than read on (the zip-bomb case).
public enum Inflate {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int), damaged(String)
        public var description: String {
            switch self {
            case .tooLarge(let limit): "inflates to more than \(limit) bytes"
            case .damaged(let why): "the compressed data is damaged (\(why))"
            }
        }
    }

    public static func raw(_ compressed: UnsafeRawBufferPointer, limit: Int) throws(Problem) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .damaged("zlib would not start") }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        guard let base = compressed.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return [] }
        stream.next_in = UnsafeMutablePointer(mutating: base)
        stream.avail_in = UInt32(clamping: compressed.count)
        var status: Int32 = Z_OK
        let budget = ScanBudget.current
        while status != Z_STREAM_END {
            if out.count & 0xFFFFF < (1 << 16), let why = budget?.stopped { throw .damaged("not inflated: the scan stopped (\(why))") }
            let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return buffer.count - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END else {
                throw .damaged(status == Z_BUF_ERROR ? "cut short" : "zlib status \(status)")
            }
            if produced == 0 && stream.avail_in == 0 && status != Z_STREAM_END { throw .damaged("cut short") }
            guard out.count + produced <= limit else { throw .tooLarge(limit) }
            out.append(contentsOf: chunk[0..<produced])
        }
        return out
    }
}
