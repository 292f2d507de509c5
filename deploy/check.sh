#!/usr/bin/env bash
# Validates the deployment manifests offline (`make deploy-check`):
#
#   1. Builds the Kustomize base and every overlay with bin/kustomize and
#      validates the output with bin/kubeconform -strict against JSON
#      schemas generated here, from the Kubernetes OpenAPI v3 documents of
#      the k8s.io/kubernetes module and KEDA's CRDs of the
#      github.com/kedacore/keda/v2 module, both fetched through the Go
#      module proxy (no GitHub, no schema download at check time).
#   2. Checks deploy/compose/compose.yaml against the Compose
#      Specification's JSON schema of github.com/compose-spec/compose-go/v2,
#      and its cross-references (deploy/composecheck).
#   3. Proves the checks can fail: the broken manifests of
#      deploy/k8s/testdata and deploy/compose/testdata must be rejected.
#
# Also fails when the base's copies of the SLA policy and notification
# routes drift from deploy/sla/default.yaml and deploy/notifications.yaml.
set -euo pipefail

cd "$(dirname "$0")/.."

# Pins: the Kubernetes API the schemas describe, the KEDA release whose
# ScaledObject and TriggerAuthentication CRDs they include (v2.21 needs a
# newer Go than this repository's), the Compose schema's module.
K8S_VERSION=v1.35.4
KEDA_VERSION=v2.20.2
COMPOSE_GO_VERSION=v2.16.2

# KUSTOMIZE and KUBECONFORM may name other builds of the pinned tools.
kustomize=${KUSTOMIZE:-bin/kustomize}
kubeconform=${KUBECONFORM:-bin/kubeconform}
if [ ! -x "$kustomize" ] || [ ! -x "$kubeconform" ]; then
  deploy/tools.sh kustomize kubeconform
fi

# module_dir MODULE@VERSION prints the module's folder in the module cache,
# downloading it first; run outside this module so go.mod is left alone.
module_dir() {
  local json
  json=$(cd "${TMPDIR:-/tmp}" && GO111MODULE=on GOFLAGS=-mod=mod go mod download -json "$1") || {
    echo "check: cannot download $1 from the Go module proxy" >&2
    return 1
  }
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json"
}

k8s_dir=$(module_dir "k8s.io/kubernetes@$K8S_VERSION")
keda_dir=$(module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")
compose_dir=$(module_dir "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION")

schemas=".dev/k8s-schemas/kubernetes-$K8S_VERSION-keda-$KEDA_VERSION"
if [ ! -f "$schemas/.complete" ]; then
  rm -rf "$schemas"
  go run ./deploy/k8sschema \
    -openapi "$k8s_dir/api/openapi-spec/v3" \
    -crd "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml" \
    -crd "$keda_dir/config/crd/bases/keda.sh_triggerauthentications.yaml" \
    -out "$schemas"
  touch "$schemas/.complete"
fi
location="$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json"

failed=0
fail() {
  echo "check: FAIL: $*" >&2
  failed=1
}

# validate DIR prints kubeconform's report of DIR's build and answers its
# status; a resource without a schema counts as an error, not a skip.
validate() {
  "$kustomize" build "$1" | "$kubeconform" -strict -summary -schema-location "$location" -
}

for cmp_pair in "deploy/sla/default.yaml deploy/k8s/base/files/sla-policy.yaml" \
  "deploy/notifications.yaml deploy/k8s/base/files/notifications.yaml"; do
  read -r original copy <<<"$cmp_pair"
  if ! cmp -s "$original" "$copy"; then
    fail "$copy differs from $original: copy it again (cp $original $copy)"
  fi
done

for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  echo "== $dir"
  if ! report=$(validate "$dir" 2>&1); then
    echo "$report"
    fail "$dir does not validate"
    continue
  fi
  echo "$report"
  if ! grep -q 'Invalid: 0, Errors: 0, Skipped: 0' <<<"$report"; then
    fail "$dir: some resources were not validated"
  fi
done

echo "== deploy/compose/compose.yaml"
compose_schema="$compose_dir/schema/compose-spec.json"
composecheck=.dev/bin/composecheck
go build -o "$composecheck" ./deploy/composecheck
"$composecheck" -schema "$compose_schema" deploy/compose/compose.yaml || fail "deploy/compose/compose.yaml does not validate"

# Self-check: each broken manifest must be rejected, with the number of
# invalid resources deploy/k8s/testdata/README.md says.
echo "== self-check: broken manifests must be rejected"
for case in "unknown-field 2" "wrong-type 1"; do
  read -r name want <<<"$case"
  if report=$(validate "deploy/k8s/testdata/$name" 2>&1); then
    fail "deploy/k8s/testdata/$name was accepted"
  elif ! grep -q "Invalid: $want, Errors: 0" <<<"$report"; then
    echo "$report"
    fail "deploy/k8s/testdata/$name: want $want invalid resources"
  else
    echo "deploy/k8s/testdata/$name: rejected as expected"
  fi
done
for f in deploy/compose/testdata/*.yaml; do
  if "$composecheck" -schema "$compose_schema" "$f" >/dev/null 2>&1; then
    fail "$f was accepted"
  else
    echo "$f: rejected as expected"
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "check: deployment manifests FAILED" >&2
  exit 1
fi
echo "check: deployment manifests OK"
