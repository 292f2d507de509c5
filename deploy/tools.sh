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

# name  package@version  [the binary go install writes, when not the name]
tools=(
  "temporal github.com/temporalio/cli/cmd/temporal@v1.5.1"
  "minio github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
  "mailpit github.com/axllent/mailpit@v1.27.11"
  "staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2"
  "workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0"
  # TEMPORAL_MODE=cluster: Temporal Server on Postgres, its schema tool and
  # the Web UI. v1.30 is the newest release this machine's Go builds.
  "temporal-server go.temporal.io/server/cmd/server@v1.30.4 server"
  "temporal-sql-tool go.temporal.io/server/cmd/tools/sql@v1.30.4 sql"
  "temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server@v2.54.1 server"
  # Deploy: images without Docker, manifests built and validated.
  "ko github.com/google/ko@v0.19.1"
  "kustomize sigs.k8s.io/kustomize/kustomize/v5@v5.8.1"
  "kubeconform github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
)

want=("$@")
for entry in "${tools[@]}"; do
  read -r name pkg binary <<<"$entry"
  binary="${binary:-$name}"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
  dir="$cache/$name-${pkg##*@}"
  if [ ! -x "$dir/$name" ]; then
    echo "tools: building $name (${pkg##*@}); the first build can take minutes" >&2
    rm -rf "$dir.partial"
    GOBIN="$dir.partial" GOFLAGS=-buildvcs=false go install "$pkg"
    if [ "$binary" != "$name" ]; then mv "$dir.partial/$binary" "$dir.partial/$name"; fi
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/$name" "bin/$name"
done
