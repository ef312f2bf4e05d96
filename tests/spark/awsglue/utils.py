"""getResolvedOptions as Glue documents it: every name asked for must be among the job's `--name value` arguments
(an absent one is an error); other arguments (Glue's own, such as --JOB_RUN_ID) are ignored.
https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-get-resolved-options.html"""
import argparse


def getResolvedOptions(args, options):
    parser = argparse.ArgumentParser(prog=args[0] if args else "job", add_help=False, allow_abbrev=False)
    for name in options:
        parser.add_argument("--" + name, required=True)
    known, _ = parser.parse_known_args(args[1:])
    return vars(known)
