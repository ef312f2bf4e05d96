"""sluice reference Glue job: convert one raw partition to Parquet in the curated zone.

Arguments (set by the startJobRun step, see domain/steps/jobs.ts jobArguments):
  --sluice_source_path   s3://raw/.../year=2024/month=01/day=05/
  --sluice_target_path   s3://curated/.../year=2024/month=01/day=05/
  --sluice_format        csv | json | parquet
  --sluice_mapping       JSON list of {"source", "target", "type"}
  --sluice_max_bad_rows_fraction   e.g. 0.01
  --sluice_run_key       idempotency key of this (execution, partition)

Rows whose values cannot be cast are counted and written to <curated bucket>/_rejected/<dataset>/<run key>/,
never dropped silently; above the allowed fraction the run fails (and the partition is reported by sluice).
This script runs only on AWS Glue; the test suite checks its syntax, and the local runtime implements the same
contract with DuckDB (adapters/local/glue.ts).
"""
import json
import sys
from functools import reduce

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

ARGS = [
    "JOB_NAME",
    "sluice_dataset",
    "sluice_source_path",
    "sluice_target_path",
    "sluice_format",
    "sluice_mapping",
    "sluice_max_bad_rows_fraction",
    "sluice_run_key",
]


def read_source(spark, fmt, path):
    if fmt == "csv":
        # Everything as text: casting (and counting what does not cast) is this job's business.
        return spark.read.option("header", "true").option("inferSchema", "false").csv(path)
    if fmt == "json":
        return spark.read.option("primitivesAsString", "true").json(path)
    return spark.read.parquet(path)


def main():
    args = getResolvedOptions(sys.argv, ARGS)
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    mapping = json.loads(args["sluice_mapping"])
    source = read_source(spark, args["sluice_format"], args["sluice_source_path"])
    missing = [m["source"] for m in mapping if m["source"] not in source.columns]
    if missing:
        raise ValueError("source columns missing: " + ", ".join(missing))

    def cast(m):
        return F.col(m["source"]).cast("string").cast(m["type"])

    bad_flags = [F.col(m["source"]).isNotNull() & cast(m).isNull() for m in mapping]
    is_bad = reduce(lambda a, b: a | b, bad_flags)
    flagged = source.withColumn("_sluice_bad", is_bad).cache()
    total = flagged.count()
    bad = flagged.filter(F.col("_sluice_bad")).count()

    curated_bucket = args["sluice_target_path"].split("/")[2]
    if bad > 0:
        reasons = F.concat_ws(
            ", ",
            *[F.when(flag, F.lit(m["source"] + " is not " + m["type"])) for m, flag in zip(mapping, bad_flags)]
        )
        (
            flagged.filter(F.col("_sluice_bad"))
            .withColumn("sluice_reject_reason", reasons)
            .drop("_sluice_bad")
            .write.mode("overwrite")
            .option("header", "true")
            .csv("s3://%s/_rejected/%s/%s/" % (curated_bucket, args["sluice_dataset"], args["sluice_run_key"]))
        )

    allowed = float(args["sluice_max_bad_rows_fraction"])
    if total > 0 and bad / total > allowed:
        raise ValueError("%d of %d rows could not be cast (limit %s)" % (bad, total, allowed))

    good = flagged.filter(~F.col("_sluice_bad")).select(*[cast(m).alias(m["target"]) for m in mapping])
    # Overwrite: a re-run of the partition replaces its output instead of adding to it.
    good.write.mode("overwrite").parquet(args["sluice_target_path"])
    print(json.dumps({"rowsIn": total, "rowsOut": total - bad, "badRows": bad}))
    job.commit()


if __name__ == "__main__":
    main()
