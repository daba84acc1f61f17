import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// COPY FROM STDIN that ends when the connection does.
///
/// postgres-nio 1.33.2 does not survive a connection lost in the middle of a COPY: a write waiting
/// for the server to take more data waits on a promise that nothing completes once the socket
/// closes (the import hung forever), and a write that reaches the connection after it has closed
/// but before its handlers are removed stops the process on a precondition ("Copy mode is only
/// supported for extended queries"). So every write here is raced against the connection's close:
/// when it closes first, the write is abandoned and `StoreError.connectionLost` thrown, and the
/// driver's CopyFail then finds the handlers gone and fails cleanly. A write is never started on a
/// connection already closing.
final class ConnectionLossWatch: Sendable {
    private let state = NIOLockedValueBox<(lost: Bool, waiting: [UInt64: CheckedContinuation<Void, any Error>], next: UInt64)>((false, [:], 0))

    init(_ connection: PostgresConnection) {
        connection.closeFuture.whenComplete { [self] _ in
            let waiting = state.withLockedValue { s -> [CheckedContinuation<Void, any Error>] in
                s.lost = true
                defer { s.waiting = [:] }
                return Array(s.waiting.values)
            }
            for c in waiting { c.resume(throwing: StoreError.connectionLost) }
        }
    }

    var isLost: Bool { state.withLockedValue { $0.lost } }

    /// Runs `write`, or throws `connectionLost` as soon as the connection closes, whichever is first.
    func race(_ write: @escaping @Sendable () async throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let id: UInt64? = state.withLockedValue { s in
                guard !s.lost else { return nil }
                s.next += 1
                s.waiting[s.next] = continuation
                return s.next
            }
            guard let id else { return continuation.resume(throwing: StoreError.connectionLost) }
            // Unstructured on purpose: a write the driver never completes must not hold its caller.
            Task {
                let result: Result<Void, any Error>
                do { try await write(); result = .success(()) } catch { result = .failure(error) }
                let waiting = state.withLockedValue { $0.waiting.removeValue(forKey: id) }
                waiting?.resume(with: result)
            }
        }
    }
}

/// The COPY writer Sleeper uses: the driver's, raced against the loss of the connection.
struct GuardedCopyWriter: Sendable {
    let writer: PostgresCopyFromWriter
    let watch: ConnectionLossWatch
    let connection: PostgresConnection

    func write(_ buffer: ByteBuffer) async throws {
        do {
            guard !connection.isClosed, !watch.isLost else { throw StoreError.connectionLost }
            let writer = self.writer
            try await watch.race { try await writer.write(buffer) }
        } catch {
            // Whatever failed, the driver's CopyFail comes next; on a closing connection it must
            // wait until the handlers are gone, or it meets the same precondition.
            if connection.isClosed {
                try? await connection.closeFuture.get()
                throw StoreError.connectionLost
            }
            throw error
        }
    }
}

extension PostgresConnection {
    /// `copyFrom` with a writer that ends when the connection does.
    func guardedCopy(table: String, columns: [String], logger: Logger, _ body: (GuardedCopyWriter) async throws -> Void) async throws {
        let watch = ConnectionLossWatch(self)
        do {
            try await copyFrom(table: table, columns: columns, logger: logger) { writer in
                try await body(GuardedCopyWriter(writer: writer, watch: watch, connection: self))
            }
        } catch  where watch.isLost || isClosed {
            throw StoreError.connectionLost
        }
    }
}
