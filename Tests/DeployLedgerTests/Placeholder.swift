import Testing

@Test func placeholderDeployLedgerTests() {}
