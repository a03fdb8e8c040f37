import Testing

@Test func placeholderReleasePolicyTests() {}
