import Foundation
import NIOCore
import PostgresNIO

/// Rows for `COPY … FROM STDIN` in PostgreSQL's text format, sent in chunks so that a large
/// import streams instead of building one huge buffer.
struct CopyTextWriter {
    private(set) var buffer = ByteBuffer()
    /// nil: rows only accumulate in `buffer`, for encoding on several cores (see `copyRowsInParallel`).
    private let writer: GuardedCopyWriter?
    private var fieldsInRow = 0

    init(_ writer: GuardedCopyWriter?) {
        self.writer = writer
        buffer.reserveCapacity(1 << 20)
    }

    mutating func text(_ value: String?) {
        separator()
        guard let value else { buffer.writeStaticString("\\N"); return }
        // Most values need no escaping and go in whole: byte-at-a-time writes cost seconds per million rows.
        if !value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
            buffer.writeString(value)
            return
        }
        for byte in value.utf8 { escaped(byte) }
    }

    /// One byte as COPY's text format reads it back.
    private mutating func escaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
        case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
        case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
        case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
        default: buffer.writeInteger(byte)
        }
    }

    /// Digits written straight into the buffer: a `String` per number was most of the time it
    /// took to encode a million score rows.
    mutating func integer(_ value: Int?) {
        separator()
        guard let value else { buffer.writeStaticString("\\N"); return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { out in
            var magnitude = value.magnitude, digits = 0
            repeat { digits += 1; magnitude /= 10 } while magnitude > 0
            var i = value < 0 ? 1 : 0
            if value < 0 { out[0] = UInt8(ascii: "-") }
            magnitude = value.magnitude
            i += digits
            let end = i
            repeat { i -= 1; out[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48; magnitude /= 10 } while magnitude > 0
            return end
        }
    }

    /// The shortest text that reads back as the same double, without a `String` in between.
    mutating func double(_ value: Double) {
        separator()
        var stream = ASCIIStream(buffer: buffer)
        buffer = ByteBuffer()
        value.write(to: &stream)
        buffer = stream.buffer
    }

    /// Receives the digits `Double.write(to:)` produces as bytes, where a plain stream would build a `String`.
    private struct ASCIIStream: TextOutputStream {
        var buffer: ByteBuffer
        mutating func write(_ string: String) { buffer.writeString(string) }
        mutating func _writeASCII(_ bytes: UnsafeBufferPointer<UInt8>) { buffer.writeBytes(bytes) }
    }

    mutating func bool(_ value: Bool) {
        separator()
        buffer.writeStaticString(value ? "t" : "f")
    }

    /// Seconds since the epoch; the insert from staging turns them into timestamptz with `to_timestamp`.
    /// Whole seconds (nearly every date in an inventory) are written as digits; `String(Double)`
    /// per date was a tenth of a million-credential import's encoding.
    mutating func epoch(_ value: Date?) {
        guard let value else { separator(); buffer.writeStaticString("\\N"); return }
        let seconds = value.timeIntervalSince1970
        if seconds == seconds.rounded(), abs(seconds) < 1e15 { integer(Int(seconds)) } else { double(seconds) }
    }

    /// A `text[]` literal: each element double-quoted with `"` and `\` escaped, then COPY-escaped
    /// (so a backslash becomes four). Written byte by byte into the buffer, without a `String` per element.
    mutating func textArray(_ values: [String]) {
        separator()
        buffer.writeInteger(UInt8(ascii: "{"))
        for (i, value) in values.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeInteger(UInt8(ascii: "\""))
            for byte in value.utf8 {
                // The array literal's own escape (a backslash before `\` and `"`), then COPY's.
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { escaped(UInt8(ascii: "\\")) }
                escaped(byte)
            }
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Empties the buffer for the next row (hashing writes one entity at a time into one writer).
    mutating func reset() {
        buffer.clear()
        fieldsInRow = 0
    }

    mutating func endRow() async throws {
        endRowInBuffer()
        if writer != nil, buffer.readableBytes >= 1 << 20 { try await flush() }
    }

    mutating func endRowInBuffer() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        fieldsInRow = 0
    }

    mutating func flush() async throws {
        guard let writer, buffer.readableBytes > 0 else { return }
        try await writer.write(buffer)
        buffer.clear()
    }

    private mutating func separator() {
        if fieldsInRow > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }
}

extension PostgresConnection {
    /// COPY rows into `table`; `row` writes one element's fields in the order of `columns`.
    func copyRows<T>(
        _ items: [T], into table: String, columns: [String], logger: Logger,
        row: (inout CopyTextWriter, T) -> Void
    ) async throws {
        guard !items.isEmpty else { return }
        let clock = ContinuousClock()
        var encoding = Duration.zero
        let start = clock.now
        try await guardedCopy(table: table, columns: columns, logger: logger) { writer in
            var out = CopyTextWriter(writer)
            for item in items {
                let t = clock.now
                row(&out, item)
                encoding += clock.now - t
                try await out.endRow()
            }
            try await out.flush()
        }
        PhaseTiming.report("COPY into \(table): \(items.count) rows in \(clock.now - start), \(encoding) of it encoding")
    }
}

extension PostgresConnection {
    /// COPY rows encoded on every core: chunks of `count` rows are encoded concurrently, at most
    /// `width` at a time, and sent in order as they are done. `chunk` writes the rows of a range;
    /// it should bind what it reads to local constants once, not per row: reading shared arrays
    /// row by row from both cores made their reference counts the bottleneck.
    func copyRowsInParallel(
        count: Int, into table: String, columns: [String], logger: Logger,
        width: Int = ProcessInfo.processInfo.activeProcessorCount,
        chunk encode: @escaping @Sendable (inout CopyTextWriter, Range<Int>) -> Void
    ) async throws {
        guard count > 0 else { return }
        let chunk = 20_000
        let starts = Array(stride(from: 0, to: count, by: chunk))
        try await guardedCopy(table: table, columns: columns, logger: logger) { writer in
            try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
                var next = 0, written = 0
                var done: [Int: ByteBuffer] = [:]
                func add() {
                    guard next < starts.count else { return }
                    let (number, start) = (next, starts[next])
                    next += 1
                    group.addTask {
                        var out = CopyTextWriter(nil)
                        encode(&out, start..<min(count, start + chunk))
                        return (number, out.buffer)
                    }
                }
                for _ in 0..<max(1, width) { add() }
                while let (number, buffer) = try await group.next() {
                    done[number] = buffer
                    while let ready = done.removeValue(forKey: written) {
                        try await writer.write(ready)
                        written += 1
                        add()
                    }
                }
            }
        }
    }
}
