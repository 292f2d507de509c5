#!/usr/bin/env bash
# Runs every test, unit and integration, against the local stack: parts
# already running (a `make run` in another terminal, the machine's Postgres)
# are reused, the others are started, and only those this script started
# are stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .dev
started=$(mktemp .dev/test-started.XXXXXX)
cleanup() {
  bin/localstack down --only-from "$started" || true
  rm -f "$started"
}
trap cleanup EXIT

bin/localstack up --started-file "$started"
go test -race -tags integration -count=1 ./...
