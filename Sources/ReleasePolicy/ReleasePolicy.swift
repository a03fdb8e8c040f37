// ReleasePolicy: see Package.swift for what this module is responsible for.
internal import Yams
