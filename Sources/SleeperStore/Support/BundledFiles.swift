import Foundation

/// The files of `Migrations/` and `Controls/`, compiled into the binary by the EmbedResources plugin.
public enum BundledFiles {
    public static let all: [String: Data] = Dictionary(
        uniqueKeysWithValues: EmbeddedResources.base64Files.map { ($0.path, Data(base64Encoded: $0.base64)!) })

    public static func files(in folder: String) -> [(name: String, data: Data)] {
        all.filter { $0.key.hasPrefix(folder + "/") }
            .map { (name: String($0.key.dropFirst(folder.count + 1)), data: $0.value) }
            .sorted { $0.name < $1.name }
    }
}
