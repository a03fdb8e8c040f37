import Foundation
import Testing
@testable import DeployLedger

/// The buffer `history` keeps records and its printed array in: it moves from `malloc` to its own
/// huge-page mapping past ``ByteArena/mappedFrom`` bytes, and no byte may be lost on the way.
@Suite struct ByteArenaTests {
    /// Deterministic, position-dependent bytes, so a dropped or shifted range is noticed.
    private func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) ^ (seed &* 7)) }
    }

    @Test func bytesSurviveGrowingFromMallocIntoAMapping() {
        let arena = ByteArena()
        var expected: [UInt8] = []
        var seed = 0
        // Appends of uneven sizes that cross the 1 MiB threshold and then several 2 MiB steps.
        while expected.count < 5 * ByteArena.mappedFrom {
            let piece = pattern(1000 + (seed * 7919) % 60_000, seed: seed)
            piece.withUnsafeBytes { arena.append($0) }
            expected += piece
            seed += 1
        }
        #expect(!arena.exhausted)
        #expect(arena.count == expected.count)
        #expect(arena.copy() == expected)
        // Ranges handed out earlier still point at the same bytes after the moves.
        #expect(Array(arena.bytes(1000..<1010)) == Array(expected[1000..<1010]))
    }

    @Test func aLargeReserveIsOneAlignedMappingThatStaysPut() throws {
        let arena = ByteArena()
        arena.reserve(3 * ByteArena.mappedFrom)
        let piece = pattern(3 * ByteArena.mappedFrom, seed: 1)
        piece.withUnsafeBytes { arena.append($0) }
        let base = try #require(arena.all.baseAddress)
        #expect(Int(bitPattern: base) % (2 << 20) == 0, "not on a 2 MiB boundary: huge pages cannot back it")
        #expect(arena.copy() == piece)
        // Filling within the reservation does not move the bytes.
        "x".utf8.withContiguousStorageIfAvailable { arena.append(UnsafeRawBufferPointer($0)) }
        #expect(arena.all.baseAddress == base)
    }

    @Test func appendUpToKeepsOnlyWhatTheWriterReports() {
        let arena = ByteArena()
        Array("[".utf8).withUnsafeBytes { arena.append($0) }
        arena.append(upTo: 2 * ByteArena.mappedFrom) { out in
            for i in 0..<10 { out[i] = UInt8(ascii: "a") + UInt8(i) }
            return 10
        }
        #expect(String(decoding: arena.all, as: UTF8.self) == "[abcdefghij")
        #expect(!arena.exhausted)
    }

    @Test func aSmallBufferRoundTrips() {
        let arena = ByteArena()
        let piece = pattern(10_000, seed: 3)
        piece.withUnsafeBytes { arena.append($0) }
        #expect(arena.copy() == piece)
        #expect(arena.count == 10_000)
    }
}
