import ArgumentParser
import Workflow

/// Where and as whom AWS is called.
struct AWSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("AWS region (else config `region`, AWS_REGION, AWS_DEFAULT_REGION, the profile).", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("Send AWS calls to this endpoint (e.g. a local moto server). AWS_ENDPOINT_URL works too.", valueName: "URL"))
    var endpointURL: String?

    @Option(help: ArgumentHelp("Profile from ~/.aws/credentials and ~/.aws/config (else AWS_PROFILE).", valueName: "NAME"))
    var profile: String?

    var settings: AWSSettings { AWSSettings(region: region, endpointURL: endpointURL, profile: profile) }

    /// Connects on first use, for `project`.
    func connector(_ project: Project, reporter: Reporter) -> ServicesProvider {
        Services.connector(settings, project: project, reporter: reporter)
    }
}
