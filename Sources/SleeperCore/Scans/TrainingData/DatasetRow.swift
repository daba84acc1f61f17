import Foundation

/// One line of a JSONL training file as the trigger miner reads it: what the model is shown
/// (`input`) and what it is taught to answer (`output`). Three shapes are read, each as its
/// trainers use it: chat `messages` (every non-assistant turn is input, every assistant turn
/// output), Alpaca `instruction`/`input`/`output`, and `prompt`/`completion`.
public struct DatasetRow: Sendable, Equatable {
    public var input: String
    public var output: String
    public init(input: String, output: String) { (self.input, self.output) = (input, output) }

    public enum Shape: String, Sendable { case chat, alpaca, promptCompletion = "prompt-completion" }

    /// Why a line was skipped; the scan counts these by kind and names the first lines of each.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notJSON(String), unknownShape, noOutput, tooLong(Int)
        public var description: String {
            switch self {
            case .notJSON(let why): "not JSON (\(why))"
            case .unknownShape: "neither chat messages, Alpaca instruction/output nor prompt/completion"
            case .noOutput: "no answer to learn from (no assistant turn, output or completion)"
            case .tooLong(let n): "a line of \(n) bytes, over the limit"
            }
        }
        /// The kind, for counting.
        public var kind: String {
            switch self {
            case .notJSON: "not-json"
            case .unknownShape: "unknown-shape"
            case .noOutput: "no-output"
            case .tooLong: "too-long"
            }
        }
    }

    /// The longest line read (a chat with a long context is tens of kilobytes, not megabytes).
    public static let maximumLine = 8 << 20

    public static func read(_ line: some Collection<UInt8>) -> Result<(DatasetRow, Shape), Problem> {
        guard line.count <= maximumLine else { return .failure(.tooLong(line.count)) }
        let value: DocumentValue
        do { value = try JSONTreeParser.parse(Data(line), maximumDepth: 32) } catch { return .failure(.notJSON(error.description)) }
        guard case .object(let fields) = value else { return .failure(.unknownShape) }
        func text(_ key: String) -> String? {
            if case .string(let s)? = fields[key] { return s }
            return nil
        }
        if case .array(let messages)? = fields["messages"] {
            var input: [String] = [], output: [String] = []
            for case .object(let m) in messages {
                guard case .string(let content)? = m["content"] else { continue }
                if case .string("assistant")? = m["role"] { output.append(content) } else { input.append(content) }
            }
            guard !output.isEmpty else { return .failure(.noOutput) }
            return .success((DatasetRow(input: input.joined(separator: "\n"), output: output.joined(separator: "\n")), .chat))
        }
        if let instruction = text("instruction") {
            guard let output = text("output"), !output.isEmpty else { return .failure(.noOutput) }
            let input = [instruction, text("input") ?? ""].filter { !$0.isEmpty }.joined(separator: "\n")
            return .success((DatasetRow(input: input, output: output), .alpaca))
        }
        if let prompt = text("prompt") {
            guard let completion = text("completion"), !completion.isEmpty else { return .failure(.noOutput) }
            return .success((DatasetRow(input: prompt, output: completion), .promptCompletion))
        }
        return .failure(.unknownShape)
    }
}
