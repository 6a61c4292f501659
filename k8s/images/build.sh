#!/usr/bin/env bash
# Builds (and with --push, pushes) the job image and, with --gpu, its GPU variant, and the scoring server image on each,
# after `mvn -B -q -DskipTests package`.
# The build context is assembled from the build's outputs; the versions come from the parent pom (written by Maven to
# flink-jobs/target/image/versions.env).
#
# Usage: k8s/images/build.sh [--registry REGISTRY] [--gpu LIBTORCH_DIR] [--push] [--context-only DIR]
#   --registry      image name prefix (default registry.example.com/policylong): images are
#                   REGISTRY/policylong-job:VERSION, REGISTRY/policylong-serve:VERSION and, with --gpu, the same
#                   names with the tag VERSION-gpu
#   --gpu           also build the GPU variant with this unzipped libtorch CUDA build (its lib/ holds libtorch.so)
#   --push          push what was built
#   --context-only  only assemble the build context in DIR (for another image builder); builds nothing
set -euo pipefail
cd "$(dirname "$0")/../.."

registry=registry.example.com/policylong
libtorch=
push=false
context=
only=false
while [ $# -gt 0 ]; do
    case "$1" in
        --registry) registry=${2:?--registry needs a value}; shift 2 ;;
        --gpu) libtorch=${2:?--gpu needs the libtorch directory}; shift 2 ;;
        --push) push=true; shift ;;
        --context-only) context=${2:?--context-only needs a directory}; only=true; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

versions=flink-jobs/target/image/versions.env
for f in "$versions" flink-jobs/target/policylong-job.jar flink-jobs/target/cluster-lib scoring-server/target/serve-lib; do
    [ -e "$f" ] || { echo "build.sh: $f is missing: run \`mvn -B -q -DskipTests package\` first" >&2; exit 1; }
done
# shellcheck disable=SC1090
. "$versions"

context=${context:-flink-jobs/target/image/context}
# The context directory is emptied first: refuse one that holds anything but an earlier context.
if [ -d "$context" ] && [ -n "$(ls -A "$context")" ] && [ ! -e "$context/.policylong-image-context" ]; then
    echo "build.sh: $context is not empty and not an earlier build context: choose a new directory" >&2
    exit 1
fi
rm -rf "$context"
mkdir -p "$context"
touch "$context/.policylong-image-context"
cp k8s/images/Dockerfile k8s/images/Dockerfile.gpu k8s/images/Dockerfile.serve conf/flink-cluster.yaml \
    flink-jobs/target/policylong-job.jar "$context/"
cp -r flink-jobs/target/cluster-lib "$context/cluster-lib"
cp -r scoring-server/target/serve-lib "$context/serve-lib"
cp scoring-server/target/policylong-scoring-server-"$IMAGE_TAG".jar "$context/serve-lib/"
if [ -n "$libtorch" ]; then
    [ -e "$libtorch/lib/libtorch.so" ] || { echo "build.sh: $libtorch/lib/libtorch.so not found" >&2; exit 1; }
    cp -r "$libtorch" "$context/libtorch"
fi
echo "build.sh: build context in $context"
if $only; then
    exit 0
fi

image="$registry/policylong-job:$IMAGE_TAG"
docker build --build-arg "FLINK_VERSION=$FLINK_VERSION" --build-arg "JAVA_VERSION=$JAVA_VERSION" \
    -f "$context/Dockerfile" -t "$image" "$context"
built=("$image")
if [ -n "$libtorch" ]; then
    docker build --build-arg "JOB_IMAGE=$image" --build-arg "PYTORCH_VERSION=$PYTORCH_VERSION" \
        --build-arg "PYTORCH_FLAVOR=$PYTORCH_FLAVOR" \
        -f "$context/Dockerfile.gpu" -t "$image-gpu" "$context"
    built+=("$image-gpu")
fi
serve="$registry/policylong-serve:$IMAGE_TAG"
docker build --build-arg "BASE_IMAGE=$image" -f "$context/Dockerfile.serve" -t "$serve" "$context"
built+=("$serve")
if [ -n "$libtorch" ]; then
    docker build --build-arg "BASE_IMAGE=$image-gpu" -f "$context/Dockerfile.serve" -t "$serve-gpu" "$context"
    built+=("$serve-gpu")
fi
if $push; then
    for i in "${built[@]}"; do
        docker push "$i"
    done
fi
printf 'build.sh: built %s\n' "${built[@]}"
