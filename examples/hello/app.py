import json


def handler(event, context):
    """A sample function for the lambda-deploy demo: answers API Gateway proxy requests."""
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": "hello from lambda-deploy"}),
    }
