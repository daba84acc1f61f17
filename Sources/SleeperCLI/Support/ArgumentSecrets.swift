import ArgumentParser
import Foundation
import SleeperCore

/// One check over every value given on the command line, whichever command and option took it:
/// a reason, a name, a source, a signer — any text that would be stored, logged or put into an
/// audit row — is refused when it looks like secret material, and the message names the option,
/// never the value. The options meant to carry credentials (`--database-url`, `--webhook`) and
/// paths of files that exist are left to their readers.
enum ArgumentSecrets {
    /// Options whose values may hold a credential on purpose; each is read without being echoed.
    static let carriers: Set<String> = ["database-url", "webhook", "webhooks"]

    static func check(_ command: ParsableCommand) throws {
        var found: [String] = []
        walk(Mirror(reflecting: command), option: nil) { option, value in
            guard !carriers.contains(option), !FileManager.default.fileExists(atPath: value) else { return }
            if let kind = SecretScanner.secretKind(of: value, field: option.replacingOccurrences(of: "-", with: "_")) {
                found.append("--\(option) looks like secret material (\(kind)); the value is not shown and nothing was written")
            }
        }
        guard found.isEmpty else { throw CommandFailure(message: found.joined(separator: "\n")) }
    }

    /// Every string under `mirror`, with the option (property) it belongs to: an `@Option`,
    /// `@Argument` or `@OptionGroup` is a property wrapper whose stored name starts with `_`.
    private static func walk(_ mirror: Mirror, option: String?, _ visit: (String, String) -> Void) {
        for child in mirror.children {
            var name = option
            if let label = child.label, label.hasPrefix("_"), label != "_parsedValue" { name = kebab(String(label.dropFirst())) }
            switch child.value {
            case let text as String: visit(name ?? "argument", text)
            case let texts as [String]: texts.forEach { visit(name ?? "argument", $0) }
            default: walk(Mirror(reflecting: child.value), option: name, visit)
            }
        }
    }

    /// `databaseURL` → `database-url`: a dash where a lower-case letter meets an upper-case one.
    static func kebab(_ name: String) -> String {
        var out = "", previousLower = false
        for c in name {
            if c.isUppercase, previousLower { out += "-" }
            previousLower = c.isLowercase
            out += c.lowercased()
        }
        return out
    }
}
