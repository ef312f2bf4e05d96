"""A test stand-in for the three `awsglue` names sluice's Glue script imports (GlueContext, Job, getResolvedOptions).

Not AWS's library (aws-glue-libs is under the Amazon Software License, which is not open source): a few lines that
give the script a local SparkSession and its arguments the way Glue does. Only tests put this folder on PYTHONPATH
(tests/spark/harness.py); the script itself runs unchanged.
"""
