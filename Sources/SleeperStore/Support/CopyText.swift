import Foundation
import NIOCore
import PostgresNIO

/// Rows for `COPY … FROM STDIN` in PostgreSQL's text format, sent in chunks so that a large
/// import streams instead of building one huge buffer.
struct CopyTextWriter {
    private(set) var buffer = ByteBuffer()
    /// nil: rows only accumulate in `buffer`, for encoding on several cores (see `copyRowsInParallel`).
    private let writer: PostgresCopyFromWriter?
    private var fieldsInRow = 0

    init(_ writer: PostgresCopyFromWriter?) {
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
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }

    mutating func integer(_ value: Int?) {
        separator()
        if let value { buffer.writeString(String(value)) } else { buffer.writeStaticString("\\N") }
    }

    mutating func double(_ value: Double) {
        separator()
        buffer.writeString(String(value))
    }

    mutating func bool(_ value: Bool) {
        separator()
        buffer.writeStaticString(value ? "t" : "f")
    }

    /// Seconds since the epoch; the insert from staging turns them into timestamptz with `to_timestamp`.
    mutating func epoch(_ value: Date?) {
        separator()
        if let value { buffer.writeString(String(value.timeIntervalSince1970)) } else { buffer.writeStaticString("\\N") }
    }

    /// A `text[]` literal: each element double-quoted with `"` and `\` escaped, then COPY-escaped.
    mutating func textArray(_ values: [String]) {
        let literal = "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
        text(literal)
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
    func copyRows<T>(_ items: [T], into table: String, columns: [String], logger: Logger,
                     row: (inout CopyTextWriter, T) -> Void) async throws {
        guard !items.isEmpty else { return }
        let clock = ContinuousClock()
        var encoding = Duration.zero
        let start = clock.now
        try await copyFrom(table: table, columns: columns, logger: logger) { writer in
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
    /// COPY rows encoded on every core: chunks are encoded concurrently, at most `width` at a
    /// time, and sent as they are done (row order in the table does not matter). Encoding a
    /// million score rows on one core took about 2 s.
    func copyRowsInParallel<T: Sendable>(_ items: [T], into table: String, columns: [String], logger: Logger,
                                         width: Int = ProcessInfo.processInfo.activeProcessorCount,
                                         row: @escaping @Sendable (inout CopyTextWriter, T) -> Void) async throws {
        guard !items.isEmpty else { return }
        let chunk = 20_000
        let starts = Array(stride(from: 0, to: items.count, by: chunk))
        try await copyFrom(table: table, columns: columns, logger: logger) { writer in
            try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
                var next = 0
                func add() {
                    guard next < starts.count else { return }
                    let start = starts[next]
                    next += 1
                    group.addTask {
                        var out = CopyTextWriter(nil)
                        for item in items[start..<min(items.count, start + chunk)] {
                            row(&out, item)
                            out.endRowInBuffer()
                        }
                        return out.buffer
                    }
                }
                for _ in 0..<max(1, width) { add() }
                while let buffer = try await group.next() {
                    try await writer.write(buffer)
                    add()
                }
            }
        }
    }
}
