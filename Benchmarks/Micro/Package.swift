// swift-tools-version: 6.1
import PackageDescription

/// Micro-benchmarks of Switchboard's pure hot functions, with ordo-one/benchmark.
///
/// A separate package so that the main package's `swift build` and `swift test` never
/// fetch or build the benchmark harness. Run from the repository root:
///
///     swift package --package-path Benchmarks/Micro benchmark
let package = Package(
    name: "SwitchboardMicroBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Switchboard", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(
            name: "HotPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PusherProtocol", package: "Switchboard"),
                .product(name: "BrokerCore", package: "Switchboard"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
