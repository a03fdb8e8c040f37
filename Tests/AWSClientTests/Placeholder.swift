import Testing

@Test func placeholderAWSClientTests() {}
