import Foundation
import Testing
@testable import Packaging

/// Times the library on a real tree (ci/bench-package.sh measures the CLI; this measures the library
/// alone). Off unless PACKAGING_BENCH_TREE names a directory; run in release:
/// `PACKAGING_BENCH_TREE=/path swift test -c release -Xswiftc -enable-testing --filter libraryBenchmark`
@Test(.enabled(if: ProcessInfo.processInfo.environment["PACKAGING_BENCH_TREE"] != nil))
func libraryBenchmark() throws {
    let environment = ProcessInfo.processInfo.environment
    let tree = try #require(environment["PACKAGING_BENCH_TREE"])
    let runs = Int(environment["PACKAGING_BENCH_RUNS"] ?? "") ?? 5
    try withTemporaryDirectory { tmp in
        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        var cpu: [String: Double] = [:]
        func median(_ label: String = "", _ body: () throws -> PackageResult) throws -> (Double, PackageResult) {
            var times: [Double] = []
            var last = try body()
            let cpuStart = cpuSeconds()
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                last = try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            cpu[label] = (cpuSeconds() - cpuStart) / Double(runs)
            return (times.sorted()[times.count / 2], last)
        }
        let (infoZip, _) = try median {
            unlink(tmp + "/info.zip")
            _ = try run(["zip", "-q", "-r", "-X", tmp + "/info.zip", "."], in: tree)
            return PackageResult(output: "", codeSha256: "", sha256Hex: "", contentDigest: "", files: 0, bytes: 0, unzippedBytes: 0, warnings: [])
        }
        let infoZipBytes = (try FileManager.default.attributesOfItem(atPath: tmp + "/info.zip")[.size] as? Int) ?? 0
        let (cold, coldResult) = try median("cold") { try packageTree(tree, to: tmp + "/cold.zip") }
        let (warm, warmResult) = try median("warm") { try packageTree(tree, to: tmp + "/warm.zip") { $0.cacheDirectory = tmp + "/cache" } }
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        print("""
            library benchmark: \(coldResult.files) files, \(coldResult.unzippedBytes) bytes unzipped, median of \(runs)
            | | median (s) | vs Info-ZIP | zip bytes |
            |---|---:|---:|---:|
            | zip -q -r -X | \(f(infoZip)) | 1.000 | \(infoZipBytes) |
            | Packager.package (cold, no cache) | \(f(cold)) | \(f(cold / infoZip)) | \(coldResult.bytes) |
            | Packager.package (warm cache) | \(f(warm)) | \(f(warm / infoZip)) | \(warmResult.bytes) |
            CPU seconds per run (user+sys, all threads): cold \(f(cpu["cold"] ?? 0)), warm \(f(cpu["warm"] ?? 0))
            """)
        #expect(coldResult.codeSha256 == warmResult.codeSha256)
        #expect(coldResult.bytes <= Int64(infoZipBytes))
    }
}
