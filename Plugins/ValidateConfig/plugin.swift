import Foundation
import PackagePlugin

/// `swift package validate-config [FILE...]`: checks config files with the same
/// loader the server uses, by running `switchboard check-config FILE`, so a bad
/// config fails in CI instead of at deploy.
///
/// Files default to `Config/switchboard.yaml` and relative paths are taken from the
/// package root, where they are also passed on as written so errors name the
/// file the way the user did. Every file is checked before failing, so one run
/// reports every broken file.
@main
struct ValidateConfig: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let switchboard = try context.tool(named: "switchboard")
        let files = arguments.isEmpty ? ["Config/switchboard.yaml"] : arguments
        var invalidFiles: [String] = []
        for file in files {
            let (output, succeeded) = try Self.checkConfig(
                file,
                tool: switchboard.url,
                packageDirectory: context.package.directoryURL
            )
            print(output, terminator: output.hasSuffix("\n") || output.isEmpty ? "" : "\n")
            if !succeeded {
                invalidFiles.append(file)
            }
        }
        if !invalidFiles.isEmpty {
            throw InvalidConfigError(files: invalidFiles)
        }
    }

    /// Runs `check-config` and returns its combined output. Output is captured
    /// rather than inherited because a plugin's own standard output is the
    /// channel SwiftPM talks to it over.
    private static func checkConfig(
        _ file: String,
        tool: URL,
        packageDirectory: URL
    ) throws -> (output: String, succeeded: Bool) {
        let process = Process()
        process.executableURL = tool
        process.arguments = ["check-config", file]
        process.currentDirectoryURL = packageDirectory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read before waiting: a child that fills the pipe would otherwise never exit.
        let data = try pipe.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        let succeeded = process.terminationReason == .exit && process.terminationStatus == 0
        return (String(decoding: data, as: UTF8.self), succeeded)
    }
}

/// Thrown after every file was checked, so SwiftPM exits non-zero; the reasons
/// were already printed with `check-config`'s output.
struct InvalidConfigError: Error, CustomStringConvertible {
    var files: [String]

    var description: String {
        "invalid config: \(self.files.joined(separator: ", "))"
    }
}
