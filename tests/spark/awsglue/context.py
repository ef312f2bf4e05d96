"""GlueContext over the local SparkSession: the script uses only `spark_session`."""
from pyspark.sql import SparkSession


class GlueContext:
    def __init__(self, spark_context):
        self.spark_context = spark_context
        # The session the harness built (local master, S3 settings); getOrCreate returns it, never a new one.
        self.spark_session = SparkSession.builder.getOrCreate()
