import Foundation
import NIOCore
import PostgresNIO

/// Rows for `COPY … FROM STDIN` in PostgreSQL's text format, sent in chunks so that a large
/// import streams instead of building one huge buffer.
struct CopyTextWriter {
    private var buffer = ByteBuffer()
    private let writer: PostgresCopyFromWriter
    private var fieldsInRow = 0

    init(_ writer: PostgresCopyFromWriter) {
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
        buffer.writeInteger(UInt8(ascii: "\n"))
        fieldsInRow = 0
        if buffer.readableBytes >= 1 << 20 { try await flush() }
    }

    mutating func flush() async throws {
        guard buffer.readableBytes > 0 else { return }
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
