/// What a model file is, told from its first bytes (and, for a zip archive, its entries), never
/// from its name: a pickle renamed `.safetensors` is still a pickle.
public enum ModelFileFormat: String, Sendable, Equatable {
    case safetensors, gguf, onnx, pickle, numpy
    case pytorchZip = "pytorch-zip", kerasZip = "keras-zip", numpyZip = "numpy-zip", zip
    case kerasH5 = "keras-h5"
    case unknown

    /// The inventory's word for it (`models[].serialization`), where it has one.
    public var serialization: Serialization {
        switch self {
        case .safetensors: .safetensors
        case .gguf: .gguf
        case .onnx: .onnx
        case .pickle, .numpy, .numpyZip: .pickle
        case .pytorchZip: .pytorch
        case .kerasZip, .kerasH5: .kerasH5
        case .zip, .unknown: .other
        }
    }

    /// `head`: at least the first 16 bytes when the file has them. A zip archive is `.zip` until
    /// its entries say more (`refine`).
    public static func detect(_ head: [UInt8]) -> ModelFileFormat {
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
        if starts(Array("GGUF".utf8)) { return .gguf }
        if starts([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .kerasH5 }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return .zip }
        if starts([0x93] + Array("NUMPY".utf8)) { return .numpy }
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) { return .pickle }
        // safetensors: an 8-byte little-endian header length, then the header's `{`.
        if head.count >= 9, let n = SafetensorsCheck.headerLength(head), n >= 2, n <= SafetensorsCheck.maximumHeader, head[8] == UInt8(ascii: "{") {
            return .safetensors
        }
        // ONNX is a protobuf ModelProto: ir_version (field 1, a small varint) comes first, then
        // opset_import, producer_name or graph (fields 8, 2 and 7).
        if head.count >= 3, head[0] == 0x08, head[1] > 0, head[1] < 32, [0x42, 0x12, 0x1A, 0x3A].contains(head[2]) { return .onnx }
        // Pickle protocols 0 and 1 have no header: a MARK or GLOBAL, then text opcodes.
        if let first = head.first, first == UInt8(ascii: "("), head.contains(0x0A) { return .pickle }
        if let first = head.first, first == UInt8(ascii: "c"), head.prefix(64).filter({ $0 == 0x0A }).count >= 2 { return .pickle }
        return .unknown
    }

    /// What a zip archive holds, from its entry names.
    public static func refine(_ zip: ZipDirectory) -> ModelFileFormat {
        let names = zip.entries.map(\.name)
        if names.contains(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) { return .pytorchZip }
        if names.contains("config.json"), names.contains(where: { $0.hasSuffix(".weights.h5") || $0 == "model.weights.h5" }) { return .kerasZip }
        if !names.isEmpty, names.allSatisfy({ $0.hasSuffix(".npy") }) { return .numpyZip }
        return .zip
    }
}
