"""Runs sluice's packaged Glue script on local Spark 3.5 against moto's S3 server, once per job run of a plan.

Usage: python harness.py PLAN.json RESULT.json   (tests/spark/spark-engine.ts writes the plan and reads the result)

One process, one SparkSession, one S3 server for every run of the plan: Spark's start-up is paid once per test run.
- S3: moto's S3 server (moto is Apache-2.0) on a loopback port chosen by the OS. The script's boto3 client reaches it
  through AWS_ENDPOINT_URL_S3; Spark reaches it through Hadoop's S3A connector with `s3://` mapped to S3A, so the
  script's own `s3://` paths, listings, ranged reads, committer renames and deletes are real S3 requests.
- Glue: the `awsglue` stand-in beside this file (GlueContext, Job, getResolvedOptions), put first on sys.path.
- Each run: its files are put into the raw bucket, sys.argv is what Glue would give the script (the template's
  DefaultArguments, the start step's run arguments, Glue's own --JOB_ID/--JOB_RUN_ID/--JOB_NAME), main() is called,
  and everything the run left in S3 is copied out: the target prefix (every key, including committer leftovers),
  the rejects prefix and the row summary. An exception is the run's failure, as Glue records it (ErrorMessage).
"""
import importlib.util
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def start_s3():
    import logging

    from moto.server import ThreadedMotoServer

    # One line per request otherwise; SLUICE_S3_LOG=1 keeps them (which keys a run touches, e.g. for IAM grants).
    if not os.environ.get("SLUICE_S3_LOG"):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, "http://%s:%d" % (host, port)


def spark_session(endpoint, jars):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("sluice-glue-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # Few shuffle partitions: the test's partitions are small (Glue's workers would use the default).
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.jars", ",".join(jars))
        .config("spark.hadoop.fs.s3.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem")
        .config("spark.hadoop.fs.s3a.endpoint", endpoint)
        .config("spark.hadoop.fs.s3a.path.style.access", "true")
        .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
        .config("spark.hadoop.fs.s3a.access.key", "testing")
        .config("spark.hadoop.fs.s3a.secret.key", "testing")
        .config("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
        .config("spark.hadoop.fs.s3a.endpoint.region", "us-east-1")
        .config("spark.driver.extraJavaOptions", "-Dcom.amazonaws.services.s3.enableV4=true")
    )
    return builder.getOrCreate()


def load_script(path):
    spec = importlib.util.spec_from_file_location("convert_partition", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_s3(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def list_keys(s3, uri):
    bucket, prefix = split_s3(uri)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
    return bucket, keys


def copy_out(s3, uri, folder):
    """Every object under uri, written under folder; returns the keys relative to uri with their sizes."""
    bucket, keys = list_keys(s3, uri)
    _, prefix = split_s3(uri)
    listed = []
    for key, size in keys:
        relative = key[len(prefix):] or "."
        listed.append({"key": relative, "size": size})
        if key.endswith("/"):
            continue
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(bucket, key, path)
    return listed


def error_text(error):
    """What Glue's ErrorMessage holds for an uncaught exception: its class and message."""
    return "%s: %s" % (type(error).__name__, str(error).strip())


def run_one(module, s3, run, out):
    from awsglue import job as glue_job

    for f in run["files"]:
        bucket, key = split_s3(f["uri"])
        s3.upload_file(f["path"], bucket, key)
    for upload in run.get("uploads", []):
        bucket, key = split_s3(upload["uri"])
        s3.put_object(Bucket=bucket, Key=key, Body=upload["body"].encode("utf-8"))
    sys.argv = run["argv"]
    committed_before = len(glue_job.COMMITTED)
    started = time.monotonic()
    error = None
    try:
        module.main()
    except Exception as e:  # the run fails, as on Glue
        error = error_text(e)
        traceback.print_exc(file=sys.stderr)
    seconds = time.monotonic() - started
    folder = os.path.join(out, run["name"])
    if "parts" in run:
        return batch_result(s3, run, folder, error, seconds, len(glue_job.COMMITTED) > committed_before)
    result = {
        "name": run["name"],
        "state": "FAILED" if error else "SUCCEEDED",
        "error": error,
        "committed": len(glue_job.COMMITTED) > committed_before,
        "seconds": seconds,
        "target": copy_out(s3, run["target"], os.path.join(folder, "target")),
        "rejects": copy_out(s3, run["rejects"], os.path.join(folder, "rejects")),
        "summary": None,
    }
    if run.get("summary"):
        bucket, key = split_s3(run["summary"])
        try:
            result["summary"] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            pass
    return result


def read_json(s3, uri):
    bucket, key = split_s3(uri)
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def batch_result(s3, run, folder, error, seconds, committed):
    """A batch run (--sluice_batch): the run's state and batch result, and per partition what it left in S3."""
    parts = []
    for part in run["parts"]:
        where = os.path.join(folder, part["name"])
        parts.append(
            {
                "name": part["name"],
                "target": copy_out(s3, part["target"], os.path.join(where, "target")),
                "rejects": copy_out(s3, part["rejects"], os.path.join(where, "rejects")),
                "summary": read_json(s3, part["summary"]) if part.get("summary") else None,
            }
        )
    return {
        "name": run["name"],
        "state": "FAILED" if error else "SUCCEEDED",
        "error": error,
        "committed": committed,
        "seconds": seconds,
        "batchResult": read_json(s3, run["batchResult"]),
        "parts": parts,
    }


def main():
    plan_path, result_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as f:
        plan = json.load(f)
    sys.path.insert(0, HERE)  # the awsglue stand-in
    server, endpoint = start_s3()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    import boto3

    s3 = boto3.client("s3")
    for bucket in plan["buckets"]:
        s3.create_bucket(Bucket=bucket)
    started = time.monotonic()
    spark = spark_session(endpoint, plan["jars"])
    startup = time.monotonic() - started
    module = load_script(plan["script"])
    results = [run_one(module, s3, run, plan["out"]) for run in plan["runs"]]
    spark.stop()
    server.stop()
    with open(result_path, "w") as f:
        json.dump({"sparkVersion": spark.version, "startupSeconds": startup, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()
