#!/usr/bin/env python3
"""Run moto's AWS server on loopback for tests and the demo, and set up fixtures in it.

  moto_local.py serve PORT            serve on 127.0.0.1:PORT until the parent process exits
                                      (so a crashed test run or demo never leaves a server behind)
  moto_local.py create-function ENDPOINT NAME [ZIP]
                                      create the IAM role and a python3.12 function NAME
                                      (handler app.handler) with a one-file starter zip
  moto_local.py create-bucket ENDPOINT NAME
  moto_local.py auth-user ENDPOINT    create an IAM user with an allow-all policy and print
                                      "AKID SECRET" (for signature-checking runs; moto counts the
                                      first INITIAL_NO_AUTH_ACTION_COUNT calls as free)

Only loopback addresses are used. Credentials are moto's test values, never real ones.
"""
import io
import os
import sys
import time
import zipfile

REGION = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
ROLE = "arn:aws:iam::123456789012:role/lambda-exec"
TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'


def client(service, endpoint):
    import boto3
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))


def serve(port):
    from moto.server import ThreadedMotoServer
    parent = os.getppid()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(port), verbose=False)
    server.start()
    print("ready", flush=True)
    try:
        while os.getppid() == parent:
            time.sleep(0.3)
    finally:
        server.stop()


def starter_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'starter'}\n")
    return buffer.getvalue()


def create_function(endpoint, name, zip_path=None):
    iam = client("iam", endpoint)
    try:
        iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    code = open(zip_path, "rb").read() if zip_path else starter_zip()
    result = client("lambda", endpoint).create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code}, Description="created by the lambda-deploy test fixtures")
    print(result["FunctionArn"])


def create_bucket(endpoint, name):
    client("s3", endpoint).create_bucket(Bucket=name)
    print(name)


def auth_user(endpoint):
    iam = client("iam", endpoint)
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer", PolicyName="allow-all",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    actions = {"serve": serve, "create-function": create_function, "create-bucket": create_bucket, "auth-user": auth_user}
    if command not in actions:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    actions[command](*args)
