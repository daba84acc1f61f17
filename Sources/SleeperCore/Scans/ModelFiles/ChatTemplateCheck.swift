import Foundation

/// A chat template (GGUF `tokenizer.chat_template`, or `chat_template` in a Hugging Face
/// `tokenizer_config.json`) runs on every conversation. A condition on what a message *says* is
/// where a trigger planted in the template rather than the weights would sit: when the text
/// holds a phrase, the template can add instructions the user never sees.
public enum ChatTemplateCheck {
    /// Literals that published templates test for their own markup (a reasoning model strips its
    /// `</think>` block from earlier turns; tool-calling templates look for their tags). A
    /// condition on one of these alone is how the template works, not a trigger.
    static let knownMarkup = ["</think>", "<think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

    /// The template's conditions (`{% if … %}`, `{% elif … %}`) that test a message's text
    /// against something; conditions on the role, on a tool call or on the loop's position are
    /// what every template does, and pass.
    ///
    /// One pass over the bytes: each tag is found from where the last ended (a search from the
    /// template's start on each tag made a 5 MB template take minutes).
    public static func contentConditions(_ template: String) -> [String] {
        var out: [String] = []
        let bytes = Array(template.utf8)
        let n = bytes.count
        var i = 0
        while i + 1 < n {
            guard bytes[i] == UInt8(ascii: "{"), bytes[i + 1] == UInt8(ascii: "%") else { i += 1; continue }
            var j = i + 2
            while j + 1 < n, !(bytes[j] == UInt8(ascii: "%") && bytes[j + 1] == UInt8(ascii: "}")) { j += 1 }
            guard j + 1 < n else { break }
            let inner = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
            i = j + 2
            let tag = inner.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "-+")))
            guard tag.hasPrefix("if ") || tag.hasPrefix("elif ") else { continue }
            // Each clause on its own: `'content' in message and 'xyzzy' in message['content']`
            // asks about the shape first and the text second.
            let clauses = tag.replacingOccurrences(of: " or ", with: " and ").components(separatedBy: " and ")
            if clauses.contains(where: { testsText($0) && !onlyKnownMarkup($0) }) { out.append(tag) }
        }
        return out
    }

    /// A clause that reads a message's text and tests it against something; `'content' in
    /// message` and `message.content is string` ask about the message's shape and do not count.
    static func testsText(_ clause: String) -> Bool {
        let readsText = clause.contains("content") || clause.contains("['text']") || clause.contains(".text")
        let tests =
            clause.contains(" in ") || clause.contains("==") || clause.contains("!=") || clause.contains("startswith")
            || clause.contains("endswith") || clause.contains("search") || clause.contains("match")
        let shapeOnly =
            clause.contains("'content' in") || clause.contains("\"content\" in") || clause.contains(" is string")
            || clause.contains(" is defined") || clause.contains(" is none") || clause.contains(" is not none")
        return readsText && tests && !shapeOnly
    }

    /// A clause whose only quoted literals are the template's own markup (keys such as
    /// `['content']` are names, not literals tested against the text).
    static func onlyKnownMarkup(_ clause: String) -> Bool {
        let keys: Set<String> = ["content", "text", "role", "type"]
        let quoted =
            clause.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            + clause.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        let literals = quoted.filter { !keys.contains($0) }
        return !literals.isEmpty && literals.allSatisfy { knownMarkup.contains($0) }
    }
}
