import Crypto
import Foundation

/// One SQL file of `Migrations/`. Its version is the number before the first underscore.
public struct Migration: Sendable, Equatable {
    public var filename: String
    public var sql: String
    public var sha256: String

    public init(filename: String, sql: String) {
        self.filename = filename
        self.sql = sql
        self.sha256 = SHA256.hash(data: Data(sql.utf8)).hexEncoded
    }

    public var version: String { String(filename.prefix { $0 != "_" }) }

    /// The migrations shipped in this binary, in order.
    public static var bundled: [Migration] {
        BundledFiles.files(in: "Migrations")
            .filter { $0.name.hasSuffix(".sql") }
            .map { Migration(filename: $0.name, sql: String(decoding: $0.data, as: UTF8.self)) }
    }
}
