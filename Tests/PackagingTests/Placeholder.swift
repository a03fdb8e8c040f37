import Testing

@Test func placeholderPackagingTests() {}
