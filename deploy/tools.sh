#!/usr/bin/env bash
# Builds the pinned tools the local stack and the checks use, with `go install`,
# into a versioned folder of the user's cache (kept across clones and CI runs),
# and links them into ./bin. A tool already built at its version is only linked.
#
#   deploy/tools.sh            every tool
#   deploy/tools.sh temporal   just the named ones
set -euo pipefail

cd "$(dirname "$0")/.."
cache="${HANDOFF_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/handoff-tools}"
mkdir -p bin "$cache"

# name  package@version
tools=(
  "temporal github.com/temporalio/cli/cmd/temporal@v1.5.1"
  "minio github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
  "mailpit github.com/axllent/mailpit@v1.27.11"
  "staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2"
  "workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0"
)

want=("$@")
for entry in "${tools[@]}"; do
  read -r name pkg <<<"$entry"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
  dir="$cache/$name-${pkg##*@}"
  if [ ! -x "$dir/$name" ]; then
    echo "tools: building $name (${pkg##*@}); the first build can take minutes" >&2
    GOBIN="$dir.partial" GOFLAGS=-buildvcs=false go install "$pkg"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/$name" "bin/$name"
done
