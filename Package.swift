// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode (strict concurrency) is the default
/// for tools 6.x; we add upcoming features that keep the code honest.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "lambda-deploy",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lambda-deploy", targets: ["lambda-deploy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: C libraries (system packages; .ci/run installs them)
        .systemLibrary(name: "CLibdeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CLibcrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibgit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // MARK: Leaf helpers
        /// Values from outside, checked and shown safely: git and Lambda names, display escaping,
        /// URL userinfo masking, and the one redactor every output goes through. Pure.
        .target(name: "Safety", swiftSettings: swiftSettings),
        /// SHA-256 and HMAC over libcrypto, shared by the packager (CodeSha256) and the signer.
        .target(name: "Digest", dependencies: ["CLibcrypto"], swiftSettings: swiftSettings),

        // MARK: The four middle modules (they do not import each other)
        /// Directory walk, .lambdaignore rules, the deterministic zip writer and its entry cache.
        .target(name: "Packaging", dependencies: ["CLibdeflate", "Digest", "Safety"], swiftSettings: swiftSettings),
        /// SigV4, credentials, HTTP over libcurl with retries, and the Lambda/S3/STS/API Gateway calls.
        .target(name: "AWSClient", dependencies: ["CCurl", "Digest", "Safety"], swiftSettings: swiftSettings),
        /// Config file, CI environment reader and the deploy/skip decision. Pure: no I/O but reading the config text.
        .target(name: "ReleasePolicy", dependencies: ["Safety", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        /// Deployment records in git notes (libgit2 locally, the git CLI for fetch/push).
        .target(name: "DeployLedger", dependencies: ["CLibgit2", "Safety"], swiftSettings: swiftSettings),

        // MARK: Orchestration and the command line
        /// Deploy, promote, rollback, gateway setup, verify, doctor, hooks: the order of steps.
        .target(
            name: "Workflow",
            dependencies: ["Packaging", "AWSClient", "ReleasePolicy", "DeployLedger", "Safety", "Digest"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "lambda-deploy",
            dependencies: [
                "Workflow", "Packaging", "ReleasePolicy", "Safety",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(name: "SafetyTests", dependencies: ["Safety"], swiftSettings: swiftSettings),
        .testTarget(name: "PackagingTests", dependencies: ["Packaging"], swiftSettings: swiftSettings),
        .testTarget(name: "AWSClientTests", dependencies: ["AWSClient", "Safety"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "ReleasePolicyTests", dependencies: ["ReleasePolicy"], swiftSettings: swiftSettings),
        .testTarget(name: "DeployLedgerTests", dependencies: ["DeployLedger", "Safety"], swiftSettings: swiftSettings),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow"], swiftSettings: swiftSettings),
        /// Runs the built binary against real peers: unzip/zipfile, git, moto on loopback.
        .testTarget(name: "EndToEndTests", dependencies: [], swiftSettings: swiftSettings),
    ]
)
