import Foundation

/// Errors for a person at a terminal go to stderr, so stdout stays parseable.
func printToStandardError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Unbuffered, so a script waiting for the line sees it at once.
func printToStandardOutput(_ message: String) {
    FileHandle.standardOutput.write(Data((message + "\n").utf8))
}
