import Foundation
import Testing

/// The suite always ends: every test has a time limit, and no test waits on what cannot be bounded.
@Suite("The suite's own bounds", .timeLimit(.minutes(2)))
struct SuiteBoundsTests {
    static func sources() throws -> [(path: String, text: String)] {
        let root = Fixtures.packageRoot.appending(path: "Tests")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.sorted().map { ($0, try String(contentsOf: root.appending(path: $0), encoding: .utf8)) }
    }

    @Test("every suite states a time limit, and every test belongs to a suite")
    func everySuiteHasATimeLimit() throws {
        var missing: [String] = [], loose: [String] = []
        for (path, text) in try Self.sources() {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (n, line) in lines.enumerated() where line.hasPrefix("@Suite") && !line.contains(".timeLimit(") {
                missing.append("\(path):\(n + 1)")
            }
            // A test outside any suite (at the top level) has no limit of its own.
            for (n, line) in lines.enumerated() where line.hasPrefix("@Test") { loose.append("\(path):\(n + 1)") }
        }
        #expect(missing.isEmpty, "suites without .timeLimit: \(missing)")
        #expect(loose.isEmpty, "tests outside a suite: \(loose)")
    }

    @Test("no test waits on Foundation's Process or URLSession, whose waits have no end of their own")
    func noUnboundedWaits() throws {
        var found: [String] = []
        for (path, text) in try Self.sources() where !path.hasSuffix("SuiteBoundsTests.swift") {
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("Process()") || line.contains("URLSession") || line.contains("waitUntilExit") {
                found.append("\(path):\(n + 1)")
            }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
