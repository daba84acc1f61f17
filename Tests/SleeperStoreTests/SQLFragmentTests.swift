import Foundation
import PostgresNIO
import Testing

@testable import SleeperStore

/// SQL as values: a fragment carries its binds, and one put inside another has its placeholders
/// renumbered after the outer ones, outside quotes only.
@Suite("SQL fragments", .timeLimit(.minutes(8)))
struct SQLFragmentTests {
    @Test("placeholders renumber after the outer binds; quoted text and a $ that numbers nothing are left alone")
    func renumbering() {
        #expect(SQLFragment.renumber("a = $1 AND b = $2 OR c = $1", by: 3) == "a = $4 AND b = $5 OR c = $4")
        #expect(SQLFragment.renumber("x = '$1' AND \"col$2\" = $2 AND y = 'it''s $1'", by: 1) == "x = '$1' AND \"col$2\" = $3 AND y = 'it''s $1'")
        #expect(SQLFragment.renumber("price $ AND $x AND $10", by: 2) == "price $ AND $x AND $12")
        #expect(SQLFragment.renumber("-- the model's rule\nWHERE t <= $1 -- it's $1\nAND u = $2", by: 1) == "-- the model's rule\nWHERE t <= $2 -- it's $1\nAND u = $3")
        #expect(SQLFragment.renumber("/* don't $1 */ x = $1", by: 2) == "/* don't $1 */ x = $3")
        let inner: SQLFragment = "key = \("a") AND n > \(5)"
        let outer: SQLFragment = "SELECT \(true) WHERE \(inner) AND m = \(7) AND \(SQLFragment(numbered: "t <= $1 AND t >= $1", binding: 9))"
        #expect(outer.text == "SELECT $1 WHERE key = $2 AND n > $3 AND m = $4 AND t <= $5 AND t >= $5")
        #expect(outer.bindCount == 5)
    }

    @Test("a composed query sends each value to its own placeholder")
    func roundTrip() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            let inner: SQLFragment = "SELECT \("inner") AS a, \(2) AS b"
            let numbered = SQLFragment(numbered: "SELECT $1::text || $1::text AS twice", binding: "x")
            let sql: SQLFragment = "SELECT i.a, i.b, n.twice, \(Int64(40)) + 2 FROM (\(inner)) i, (\(numbered)) n WHERE \(Optional<String>.none)::text IS NULL"
            var rows: [(String, Int, String, Int64)] = []
            for try await row in try await db.client.query(sql.query, logger: db.logger).decode((String, Int, String, Int64).self) { rows.append(row) }
            #expect(rows.count == 1 && rows[0].0 == "inner" && rows[0].1 == 2 && rows[0].2 == "xx" && rows[0].3 == 42)
        }
    }
}
