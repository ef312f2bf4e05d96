# CloudFormation custom resource: empties sluice's buckets (every object version and delete marker) when the
# stack is deleted, in stages that do not retain data, so `sls remove` does not end in DELETE_FAILED.
# It answers CloudFormation itself (an HTTPS PUT to the pre-signed ResponseURL, as documented in
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html) instead of relying
# on the cfnresponse module, and it answers on every path: SUCCESS, FAILED with the reason, and FAILED before
# the Lambda timeout when the buckets are too big to empty in one go (then `sls remove` again continues).
import json
import time
import urllib.request

MARGIN_SECONDS = 20
ACCESS_DENIED = ("AccessDenied", "AccessDeniedException")


def answer(event, context, status, reason=""):
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or "See CloudWatch log stream " + context.log_stream_name)[:1000],
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    ).encode("utf-8")
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    for attempt in range(4):
        try:
            urllib.request.urlopen(request, timeout=15).close()
            return
        except Exception as error:  # the answer is all CloudFormation waits for: keep trying briefly
            print(json.dumps({"message": "response not delivered", "attempt": attempt, "error": str(error)}))
            time.sleep(2**attempt)


def error_code(error):
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def empty_bucket(s3, bucket, deadline):
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
        for start in range(0, len(batch), 1000):
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise RuntimeError("cannot delete s3://%s/%s: %s" % (bucket, first.get("Key"), first.get("Message")))
        if time.time() > deadline:
            raise TimeoutError("s3://%s is not empty yet; run the removal again to continue" % bucket)


def empty_with_retries(s3, bucket, deadline):
    # A role created in the same deployment can be refused for a while until IAM has propagated it.
    while True:
        try:
            return empty_bucket(s3, bucket, deadline)
        except Exception as error:
            code = error_code(error)
            if code == "NoSuchBucket":
                return None
            if code in ACCESS_DENIED and time.time() + 10 < deadline:
                time.sleep(5)
                continue
            raise


def handler(event, context):
    try:
        if event["RequestType"] == "Delete":
            import boto3

            deadline = time.time() + context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS
            s3 = boto3.client("s3")
            for bucket in event["ResourceProperties"]["Buckets"]:
                empty_with_retries(s3, bucket, deadline)
        answer(event, context, "SUCCESS")
    except BaseException as error:
        print(json.dumps({"message": "failed", "error": repr(error)}))
        answer(event, context, "FAILED", "%s: %s" % (type(error).__name__, error))
