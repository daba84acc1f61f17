import Foundation
import SleeperCore
import Testing

/// A model file's format comes from its bytes, not its name.
@Suite("Model file formats by content", .timeLimit(.minutes(2)))
struct ModelFileFormatTests {
    static func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let zeros: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    static let cases: [([UInt8], ModelFileFormat)] = [
        (utf8("GGUF") + zeros, .gguf),
        ([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + zeros, .kerasH5),
        ([0x50, 0x4B, 0x03, 0x04, 20] + zeros, .zip),
        ([0x93] + utf8("NUMPY") + [1, 0, 118, 0] + utf8("{'descr"), .numpy),
        ([0x80, 0x02] + utf8("cos\nsystem\n."), .pickle),
        ([0x80, 0x05, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x8C, 0x08] + utf8("bui"), .pickle),
        ([16, 0, 0, 0, 0, 0, 0, 0] + utf8(#"{"a": 1}"#), .safetensors),
        ([0x08, 0x07, 0x12, 0x07] + utf8("pytorch") + [0x1A, 0x03, 0x32, 0x2E], .onnx),
        (utf8("(lp0\nI1\na."), .pickle),
        (utf8("cos\nsystem\n(S'id'\ntR."), .pickle),
        (utf8("just some text file\n"), .unknown),
    ]

    @Test("each format's signature", arguments: cases)
    func signatures(head: [UInt8], format: ModelFileFormat) {
        #expect(ModelFileFormat.detect(head) == format)
    }

    @Test("a zip archive is a PyTorch checkpoint, a Keras file or a NumPy archive by what it holds")
    func archives() {
        func dir(_ names: [String]) -> ZipDirectory {
            ZipDirectory(entries: names.map { .init(name: $0, method: 0, compressedSize: 1, uncompressedSize: 1, localHeaderOffset: 0) })
        }
        #expect(ModelFileFormat.refine(dir(["archive/data.pkl", "archive/data/0", "archive/version"])) == .pytorchZip)
        #expect(ModelFileFormat.refine(dir(["metadata.json", "config.json", "model.weights.h5"])) == .kerasZip)
        #expect(ModelFileFormat.refine(dir(["a.npy", "b.npy"])) == .numpyZip)
        #expect(ModelFileFormat.refine(dir(["readme.txt"])) == .zip)
        #expect(ModelFileFormat.pytorchZip.serialization == .pytorch && ModelFileFormat.numpy.serialization == .pickle)
    }
}
