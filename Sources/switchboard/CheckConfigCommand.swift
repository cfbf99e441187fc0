import ArgumentParser
import BrokerConfig

/// `switchboard check-config FILE`: validates a config before a deploy and prints every
/// effective setting, secrets masked; exits 1 with the file, line and key of the first
/// mistake otherwise.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config file and print its effective settings."
    )

    @Argument(help: "The YAML config file.")
    var file: String = ServeCommand.defaultConfigPath

    func run() throws {
        do {
            let config = try ConfigLoader.load(contentsOf: self.file)
            for line in config.summary { print(line) }
            print("\(self.file): OK")
        } catch {
            printToStandardError("\(error)")
            throw ExitCode.failure
        }
    }
}
