#!/usr/bin/env bash
# Builds the API and worker images with ko, without Docker and without a
# registry, into .dev/images:
#
#   base/                   our static base image (OCI layout), deploy/images/base
#   handoff-api/            the API image (OCI layout)
#   handoff-api.tar         the same layout as an OCI archive (docker load,
#                           podman load, skopeo copy oci-archive:...)
#   handoff-api.docker.tar  ko's --tarball, the `docker save` format
#   handoff-api.spdx.json   ko's SPDX SBOM of the image (Go modules of the binary)
#   ... and the same for handoff-worker and handoff-starter (the Jobs' image).
#
# The builds are reproducible: the same tree gives the same digests.
# SOURCE_DATE_EPOCH (default: the time of the HEAD commit) is the image
# creation time; file times in the base are the Unix epoch; ko builds with
# -trimpath. It prints each image's digest and fails unless the image runs as
# a non-root user and its entrypoint is an executable in the image.
#
#   deploy/images/build.sh             (make images runs deploy/tools.sh ko first)
#   KO_DOCKER_REPO=registry.example/handoff deploy/images/build.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
out=.dev/images
ko=bin/ko
if [ ! -x "$ko" ]; then
  echo "images: $ko is missing; run deploy/tools.sh ko (or make images)" >&2
  exit 1
fi

# The repository the images are named under inside the tarballs; nothing is
# pushed. (Not ko.local: ko would then want a Docker daemon.)
repo="${KO_DOCKER_REPO:-handoff.local}"
ca="${HANDOFF_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
fi
export SOURCE_DATE_EPOCH
export KO_DATA_DATE_EPOCH="$SOURCE_DATE_EPOCH"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

mkdir -p "$out"
base_digest="$(go run ./deploy/images/base -out "$out/base" -ca "$ca")"
echo "images: base $base_digest ($out/base)" >&2

# ko takes base images from a registry, or, when the base is named by digest,
# from the OCI layout of its cache in $KOCACHE/img: a fresh cache holding our
# base is how ko builds on it offline. The name's registry never resolves.
kocache="$(mktemp -d)"
trap 'rm -rf "$kocache"' EXIT
cp -R "$out/base" "$kocache/img"
export KOCACHE="$kocache"
export KO_DEFAULTBASEIMAGE="handoff.invalid/base@$base_digest"

# Archives an OCI layout folder as a tar with fixed names, times, owners and
# modes, so the archive's bytes depend on the layout's bytes alone.
archive() {
  local dir="$1" file="$2"
  find "$dir" -type d -exec chmod 0755 {} + && find "$dir" -type f -exec chmod 0644 {} +
  tar --sort=name --format=ustar --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$dir" -cf "$file.partial" oci-layout index.json blobs
  mv "$file.partial" "$file"
}

for app in api worker starter; do
  name="handoff-$app"
  rm -rf "${out:?}/$name" "$out/$name.tar" "$out/$name.docker.tar" "$out/$name".*.json "$kocache/sbom"
  KO_DOCKER_REPO="$repo/$name" "$ko" build "./$app" \
    --bare --push=false \
    --oci-layout-path="$out/$name" \
    --tarball="$out/$name.docker.tar" \
    --sbom=spdx --sbom-dir="$kocache/sbom" >&2
  # ko names the SBOM after the binary and platform; keep one, named after the image.
  sboms=("$kocache"/sbom/*.spdx.json)
  if [ ${#sboms[@]} -ne 1 ] || [ ! -f "${sboms[0]}" ]; then
    echo "images: $name: expected one SPDX SBOM from ko, found: ${sboms[*]}" >&2
    exit 1
  fi
  cp "${sboms[0]}" "$out/$name.spdx.json"
  archive "$out/$name" "$out/$name.tar"
  report="$(go run ./deploy/images/check "$out/$name")"
  digest="$(cut -f2 <<<"$report")"
  echo "images: $name $(cut -f3- <<<"$report")" >&2
  echo "$name $digest"
done
