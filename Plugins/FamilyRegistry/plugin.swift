import PackagePlugin

/// Registers the model families of a target: every Swift file in its `Families/` folder defines one family, a type
/// named after the file, and this plugin generates the list of them (`registeredModelFamilies` in WStreamModel,
/// `registeredCheckpointFamilies` in WStreamImport). Adding a family is then adding a file: no list to edit.
@main
struct FamilyRegistry: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let families = target.sourceFiles(withSuffix: "swift").map(\.url)
            .filter { $0.deletingLastPathComponent().lastPathComponent == "Families" }
        let (list, protocolName) = target.name == "WStreamImport"
            ? ("registeredCheckpointFamilies", "CheckpointFamily") : ("registeredModelFamilies", "ModelFamily")
        let output = context.pluginWorkDirectoryURL.appending(path: "RegisteredFamilies.swift")
        return [
            .buildCommand(
                displayName: "Registering the model families of \(target.name)",
                executable: try context.tool(named: "FamilyRegistryGenerator").url,
                arguments: [output.path(percentEncoded: false), list, protocolName] + families.map { $0.path(percentEncoded: false) },
                inputFiles: families, outputFiles: [output]),
        ]
    }
}
