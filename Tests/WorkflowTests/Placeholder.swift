import Testing

@Test func placeholderWorkflowTests() {}
