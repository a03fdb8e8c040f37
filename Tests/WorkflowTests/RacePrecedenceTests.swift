import Foundation
import Testing
import ReleasePolicy
@testable import Workflow

/// The never-backwards rule and the version description it reads: what a deploy writes, what it
/// reads back from AWS (outside data), and the decision.
@Suite struct RacePrecedenceTests {
    static let sha1 = String(repeating: "3", count: 40)
    static let sha256 = String(repeating: "e", count: 64)
    static let build = BuildOrder(service: .githubActions, number: 9_223_372_036_854_775_807, attempt: 9_223_372_036_854_775_807, scope: "0123abcd")

    @Test func theVersionDescriptionCarriesCommitBuildAndBranchAndFitsLambda() {
        let text = Deployer.versionDescription(
            commit: Self.sha256, contentDigest: String(repeating: "f", count: 64), build: Self.build,
            branch: String(repeating: "very-long-branch-name/", count: 20), extra: String(repeating: "x", count: 400))
        #expect(text.count == 256)
        let read = VersionProvenance(description: text)
        #expect(read.commit == Self.sha256)
        #expect(read.build == Self.build)
        #expect(read.branchHash == VersionProvenance.branchHash(String(repeating: "very-long-branch-name/", count: 20)))
        #expect(read.branchHash?.count == 8)
    }

    @Test func textGivenWithDescriptionCannotForgeTheFields() {
        let forged = "commit=\(Self.sha1) build=travis:999/0123abcd branch=\(VersionProvenance.branchHash("main")) note=kept"
        let text = Deployer.versionDescription(commit: nil, contentDigest: "abc", extra: forged)
        let read = VersionProvenance(description: text)
        #expect(read == VersionProvenance(), "a field read back from the user's text: \(text)")
        #expect(text.contains("commit:\(Self.sha1)"), "the text itself is kept")
        #expect(text.contains("note=kept"))
        let ours = Deployer.versionDescription(commit: Self.sha256, contentDigest: "abc", build: Self.build, branch: "main", extra: forged)
        #expect(VersionProvenance(description: ours) == VersionProvenance(commit: Self.sha256, build: Self.build, branchHash: VersionProvenance.branchHash("main")))
    }

    struct Hostile: Sendable, CustomTestStringConvertible {
        var description: String?
        var testDescription: String { String((description ?? "nil").prefix(60)) }
    }

    /// Whatever a server sends as a description, nothing malformed is taken for a field.
    @Test(arguments: [
        Hostile(description: nil),
        Hostile(description: ""),
        Hostile(description: "commit=HEAD~1 build=travis:1 branch=main"),
        Hostile(description: "commit=--upload-pack=evil build=travis:-1/0123abcd branch=0123ABCD"),
        Hostile(description: "commit=\(String(repeating: "3", count: 39)) build=local:5/0123abcd branch=0123abc"),
        Hostile(description: "commit=\(String(repeating: "3", count: 40))\u{1b}[2J build=travis:5/0123abcd\nbranch=01234567"),
        Hostile(description: String(repeating: "x", count: 100_000) + " commit=\(String(repeating: "3", count: 40))"),
        Hostile(description: "build=travis:\(String(repeating: "9", count: 30))/0123abcd"),
    ])
    func malformedFieldsReadAsAbsent(_ hostile: Hostile) {
        let read = VersionProvenance(description: hostile.description)
        #expect(read.commit == nil)
        #expect(read.build == nil)
        #expect(read.branchHash == nil || read.branchHash == "01234567" && hostile.description?.contains("\n") == true)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var ours: VersionProvenance
        var theirs: VersionProvenance
        var ancestry: [String: Bool?]
        var superseded: Bool
        var testDescription: String { name }
    }

    static let older = String(repeating: "1", count: 40), newer = String(repeating: "2", count: 40)
    static func travis(_ number: UInt64) -> BuildOrder { BuildOrder(service: .travis, number: number, scope: "0123abcd") }
    static let main = VersionProvenance.branchHash("main")

    @Test(arguments: [
        Case(name: "theirs descends from ours", ours: .init(commit: older), theirs: .init(commit: newer), ancestry: [older + newer: true], superseded: true),
        Case(name: "ours descends from theirs", ours: .init(commit: newer), theirs: .init(commit: older), ancestry: [newer + older: false], superseded: false),
        Case(name: "unrelated: last writer wins, even with a later build", ours: .init(commit: older, build: travis(1), branchHash: main),
             theirs: .init(commit: newer, build: travis(2), branchHash: main), ancestry: [older + newer: false], superseded: false),
        Case(name: "same commit", ours: .init(commit: older), theirs: .init(commit: older), ancestry: [:], superseded: false),
        Case(name: "ancestry unknown, later build of the same branch", ours: .init(commit: older, build: travis(1), branchHash: main),
             theirs: .init(commit: newer, build: travis(2), branchHash: main), ancestry: [older + newer: nil], superseded: true),
        Case(name: "ancestry unknown, earlier build", ours: .init(commit: older, build: travis(3), branchHash: main),
             theirs: .init(commit: newer, build: travis(2), branchHash: main), ancestry: [older + newer: nil], superseded: false),
        Case(name: "ancestry unknown, no branch of ours", ours: .init(commit: older, build: travis(1)),
             theirs: .init(commit: newer, build: travis(2), branchHash: main), ancestry: [older + newer: nil], superseded: false),
        Case(name: "no commit of ours: builds decide", ours: .init(build: travis(1), branchHash: main),
             theirs: .init(commit: newer, build: travis(2), branchHash: main), ancestry: [:], superseded: true),
        Case(name: "theirs says nothing", ours: .init(commit: older, build: travis(1), branchHash: main), theirs: .init(), ancestry: [:], superseded: false),
    ])
    func theAliasMovesForwardOrSideways(_ race: Case) {
        let verdict = Precedence.decide(
            ours: race.ours, theirs: race.theirs, version: "7", alias: "dev",
            isAncestor: { ancestor, descendant in race.ancestry[ancestor + descendant] ?? nil })
        if race.superseded {
            guard case .superseded(let reason) = verdict else { Issue.record("expected superseded, got \(verdict)"); return }
            #expect(reason.hasPrefix("dev runs version 7"))
            #expect(!reason.contains("\n"))
        } else {
            #expect(verdict == .proceed)
        }
    }
}
