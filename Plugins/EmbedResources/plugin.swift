import Foundation
import PackagePlugin

/// Compiles plain files into Swift source, so they travel inside the binary and reviewers still
/// read them as plain files: for the store, the top-level `Migrations/*.sql` and `Controls/*.yaml`;
/// for any other target, the `.yaml` files in its own folder (the server's OpenAPI contract).
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let folders =
            target.name == "SleeperStore"
            ? ["Migrations", "Controls"]
            : [target.directoryURL.path.replacingOccurrences(of: root.path + "/", with: "")]
        let inputs = try folders.flatMap { folder -> [URL] in
            let dir = root.appending(path: folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            return names.sorted()
                .filter { $0.hasSuffix(".sql") || $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }
                .map { dir.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folders.joined(separator: ", ")) into \(target.name)",
                executable: try context.tool(named: "EmbedResourcesTool").url,
                arguments: [output.path, root.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
