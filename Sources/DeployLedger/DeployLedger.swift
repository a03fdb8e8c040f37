// DeployLedger: see Package.swift for what this module is responsible for.
internal import CLibgit2
