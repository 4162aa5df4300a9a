// swift-tools-version:6.2
import PackageDescription

// An app of its own that serves a local model beside its other routes, with wstream as a dependency by path
// (a released wstream would be `.package(url: …, from: "0.1.0")`: tools-version 6.2 lets a dependency's
// targets keep their unsafe flags).
let package = Package(
    name: "EmbeddedServer",
    dependencies: [
        .package(name: "wstream", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "EmbeddedServer",
            dependencies: [
                .product(name: "WStream", package: "wstream"),
                .product(name: "WStreamServer", package: "wstream"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
    ]
)
