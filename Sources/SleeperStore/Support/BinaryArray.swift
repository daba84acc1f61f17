import Foundation
import NIOCore

/// A one-dimensional PostgreSQL array in its binary wire format, read element by element.
/// Whole columns come back as one `array_agg` each: the server builds and sends them several
/// times faster than rows or text, and reading them here is little more than a copy.
struct BinaryArray {
    private let buffer: ByteBuffer

    /// nil when the value is NULL (`array_agg` over no rows).
    init?(_ buffer: ByteBuffer?) {
        guard let buffer else { return nil }
        self.buffer = buffer
    }

    /// Calls `body` with each element's bytes, or nil for a NULL element.
    func forEach(_ body: (UnsafeRawBufferPointer?) throws -> Void) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var i = 0
            func int32() throws -> Int {
                guard i + 4 <= raw.count else { throw StoreError.invalidInput("truncated array from the database") }
                let v = Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: i, as: Int32.self)))
                i += 4
                return v
            }
            let dimensions = try int32()
            _ = try int32()  // has nulls
            _ = try int32()  // element type
            guard dimensions == 1 else { return }
            let count = try int32()
            _ = try int32()  // lower bound
            for _ in 0..<count {
                let length = try int32()
                if length < 0 { try body(nil); continue }
                guard i + length <= raw.count else { throw StoreError.invalidInput("truncated array from the database") }
                try body(UnsafeRawBufferPointer(rebasing: raw[i..<(i + length)]))
                i += length
            }
        }
    }

    /// int2, int4 or int8 elements (NULL as nil).
    func integers() throws -> [Int?] {
        var out: [Int?] = []
        try forEach { out.append($0.map(Self.integer)) }
        return out
    }

    /// Elements that are never NULL.
    func nonNullIntegers() throws -> [Int] {
        var out: [Int] = []
        try forEach { bytes in
            guard let bytes else { throw StoreError.invalidInput("unexpected NULL in an array from the database") }
            out.append(Self.integer(bytes))
        }
        return out
    }

    func strings() throws -> [String?] {
        var out: [String?] = []
        try forEach { out.append($0.map { String(decoding: $0, as: UTF8.self) }) }
        return out
    }

    /// float8 elements that are never NULL.
    func doubles() throws -> [Double] {
        var out: [Double] = []
        try forEach { bytes in
            guard let bytes, bytes.count == 8 else { throw StoreError.invalidInput("unexpected element in a float array from the database") }
            out.append(Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))))
        }
        return out
    }

    func bools() throws -> [Bool] {
        var out: [Bool] = []
        try forEach { out.append(($0?.first ?? 0) != 0) }
        return out
    }

    /// timestamptz elements: microseconds since 2000-01-01, as PostgreSQL stores them.
    func dates() throws -> [Date?] {
        var out: [Date?] = []
        try forEach { bytes in
            out.append(bytes.map { Date(timeIntervalSinceReferenceDate: Double(Self.integer($0)) / 1_000_000 + Self.referenceTo2000) })
        }
        return out
    }

    /// Seconds from Foundation's reference date (2001-01-01) back to PostgreSQL's (2000-01-01).
    static let referenceTo2000 = -31_622_400.0

    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch bytes.count {
        case 8: Int(Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)))
        case 4: Int(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        case 2: Int(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        default: 0
        }
    }
}
