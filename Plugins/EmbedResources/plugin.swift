import Foundation
import PackagePlugin

/// Compiles the top-level `Migrations/*.sql` and `Controls/*.yaml` into Swift source, so the
/// schema and catalogs travel inside the binary and reviewers still read them as plain files.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let inputs = try ["Migrations", "Controls"].flatMap { folder -> [URL] in
            let dir = root.appending(path: folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            return names.sorted()
                .filter { $0.hasSuffix(".sql") || $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }
                .map { dir.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        return [
            .buildCommand(
                displayName: "Embedding Migrations/ and Controls/",
                executable: try context.tool(named: "EmbedResourcesTool").url,
                arguments: [output.path, root.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
