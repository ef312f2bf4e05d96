"""Runs a custom resource's inline Lambda code (taken from the packaged template) through every path that
CloudFormation and S3 can put it on, with a fake boto3, a virtual clock and the response PUT captured.
Reads {"code": ..., "timeout": <Lambda Timeout seconds>} on stdin; prints one JSON result per scenario.
The TypeScript test decides what each result must be."""
import json
import sys
import time
import types
import urllib.request

spec = json.load(sys.stdin)
clock = {"now": 1_000_000.0}
time.time = lambda: clock["now"]


def sleep(seconds):
    clock["now"] += seconds


time.sleep = sleep


class ClientError(Exception):
    def __init__(self, code):
        super().__init__("An error occurred (%s)" % code)
        self.response = {"Error": {"Code": code, "Message": code}}


botocore = types.ModuleType("botocore")
botocore.exceptions = types.ModuleType("botocore.exceptions")
botocore.exceptions.ClientError = ClientError
sys.modules["botocore"] = botocore
sys.modules["botocore.exceptions"] = botocore.exceptions


def page(n):
    return {"Versions": [{"Key": "k%d" % n, "VersionId": "v%d" % n}], "DeleteMarkers": [{"Key": "d", "VersionId": "m"}]}


# Each scenario: how the fake S3 behaves (fail(op, call_number) -> exception or None; pages; delete result).
SCENARIOS = {
    "create": {"request": "Create"},
    "update": {"request": "Update"},
    "delete": {"request": "Delete"},
    "delete, bucket already gone": {"request": "Delete", "fail": lambda op, n: ClientError("NoSuchBucket")},
    "delete, access denied while IAM propagates": {
        "request": "Delete",
        "fail": lambda op, n: ClientError("AccessDenied") if n < 3 else None,
    },
    "delete, access denied for good": {"request": "Delete", "fail": lambda op, n: ClientError("AccessDenied")},
    "delete, objects that cannot be deleted": {"request": "Delete", "delete_errors": True},
    "delete, unexpected error": {"request": "Delete", "fail": lambda op, n: RuntimeError("boom")},
    "delete, throttled": {"request": "Delete", "fail": lambda op, n: ClientError("SlowDown")},
    "delete, too many objects for one run": {"request": "Delete", "pages": 10**9, "page_seconds": 30},
    "delete, first response PUT fails": {"request": "Delete", "put_failures": 1},
    "delete, boto3 missing": {"request": "Delete", "no_boto3": True},
    "delete, event without properties": {"request": "Delete", "no_properties": True},
}


def run(name, scenario):
    clock["now"] = 1_000_000.0
    start = clock["now"]
    calls = {}
    responses = []
    put_failures = [scenario.get("put_failures", 0)]

    def maybe_fail(op):
        calls[op] = calls.get(op, 0) + 1
        fail = scenario.get("fail")
        error = fail(op, calls[op]) if fail else None
        if error is not None:
            raise error

    class Paginator:
        def __init__(self, op):
            self.op = op

        def paginate(self, **kwargs):
            maybe_fail(self.op)
            n = 0
            while n < scenario.get("pages", 2):
                clock["now"] += scenario.get("page_seconds", 0.1)
                yield page(n)
                n += 1

    class Client:
        def get_paginator(self, op):
            return Paginator(op)

        def __getattr__(self, op):
            def call(**kwargs):
                maybe_fail(op)
                return {"Errors": [{"Key": "k", "Message": "denied"}]} if scenario.get("delete_errors") else {}

            return call

    boto3 = types.ModuleType("boto3")
    boto3.client = lambda service, **kw: Client()
    if scenario.get("no_boto3"):
        sys.modules.pop("boto3", None)
        sys.modules["boto3"] = None  # makes `import boto3` raise ImportError
    else:
        sys.modules["boto3"] = boto3

    def urlopen(request, timeout=None):
        if put_failures[0] > 0:
            put_failures[0] -= 1
            raise OSError("connection reset")
        responses.append({"body": json.loads(request.data.decode("utf-8")), "at": clock["now"] - start})

        class Closing:
            def close(self):
                pass

        return Closing()

    urllib.request.urlopen = urlopen

    class Context:
        log_stream_name = "2026/01/01/[$LATEST]abc"

        def get_remaining_time_in_millis(self):
            return max(0, int((start + spec["timeout"] - clock["now"]) * 1000))

    event = {
        "RequestType": scenario["request"],
        "ResponseURL": "https://cloudformation-custom-resource-response.example/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/sluice-dev/1",
        "RequestId": "req-1",
        "LogicalResourceId": "EmptyBucketsOnDelete",
        "ResourceType": "Custom::EmptyBucketsOnDelete",
        "ResourceProperties": {"ServiceToken": "arn", "Buckets": ["raw", "curated"]},
    }
    if scenario["request"] != "Create":
        event["PhysicalResourceId"] = "EmptyBucketsOnDelete"
    if scenario.get("no_properties"):
        del event["ResourceProperties"]
    # CloudFormation provides cfnresponse only to code that imports it with exactly `import cfnresponse`.
    sys.modules.pop("cfnresponse", None)
    if any(line.strip() == "import cfnresponse" for line in spec["code"].splitlines()):
        cfnresponse = types.ModuleType("cfnresponse")
        cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"

        def send(event, context, status, data, physical_id=None, no_echo=False, reason=None):
            body = {
                "Status": status,
                "Reason": reason or "See " + context.log_stream_name,
                "PhysicalResourceId": physical_id or context.log_stream_name,
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Data": data,
            }
            urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode("utf-8"), method="PUT"))

        cfnresponse.send = send
        sys.modules["cfnresponse"] = cfnresponse
    namespace = {"__name__": "index"}
    raised = None
    try:
        exec(compile(spec["code"], "index.py", "exec"), namespace)
        namespace["handler"](event, Context())
    except BaseException as error:
        raised = repr(error)
    return {
        "scenario": name,
        "responses": [
            {
                "Status": r["body"].get("Status"),
                "Reason": r["body"].get("Reason", ""),
                "complete": all(
                    r["body"].get(k) for k in ("PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")
                ),
                "at": r["at"],
            }
            for r in responses
        ],
        "calls": calls,
        "raised": raised,
        "timeout": spec["timeout"],
    }


real_stdout, sys.stdout = sys.stdout, sys.stderr  # the code's own log lines go to stderr
results = [run(name, scenario) for name, scenario in SCENARIOS.items()]
real_stdout.write(json.dumps(results))
