import Foundation
import SleeperCore
import SleeperStore

/// A report-rules file named on the command line (`--rules`, `serve --report-rules`), read and checked.
func readReportRules(_ file: String) throws -> ReportRules {
    try ReportRules.read(try readInputFile(file), file: URL(fileURLWithPath: file).lastPathComponent).get()
}

/// The rules a command judges by: the file given, or the shipped `Controls/report-rules.yaml`.
func reportRules(_ file: String?) throws -> ReportRules {
    try file.map(readReportRules) ?? ScoredChanges.bundledReportRules()
}
