#!/usr/bin/env bash
# Build the image, train in a container on the repository's raw data, and copy
# the trained model and its reports out.
#
#   ./get_model.sh [-i IMAGE] [-e ENV] [-p PIPELINE] [-o OUT]
#
#   -i IMAGE     image tag to build and run            (default: kedro-ml:latest)
#   -e ENV       Kedro environment, i.e. the game      (default: base)
#   -p PIPELINE  training pipeline to run              (default: sub_churn_train_from_raw)
#   -o OUT       folder for sub_churn.skops and reports/ (default: the repository root)
set -euo pipefail

IMAGE="kedro-ml:latest"
ENV="base"
PIPELINE="sub_churn_train_from_raw"
OUT=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "get_model.sh: $1" >&2; exit "${2:-1}"; }

while getopts "i:e:p:o:h" opt; do
  case "$opt" in
    i) IMAGE="$OPTARG" ;;
    e) ENV="$OPTARG" ;;
    p) PIPELINE="$OPTARG" ;;
    o) OUT="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")" && pwd)"
OUT="$(mkdir -p "${OUT:-$ROOT}" && cd "${OUT:-$ROOT}" && pwd)"

command -v docker >/dev/null 2>&1 \
  || fail "docker is not installed (podman works in its place: README, Docker)" 2
docker info >/dev/null 2>&1 || fail "no docker engine answers: start one (podman works in its place: README, Docker)" 2

ENV_ARGS=()
DATA_ROOT="data"
if [ "$ENV" != "base" ]; then
  [ -d "$ROOT/conf/$ENV" ] || fail "no environment conf/$ENV in $ROOT" 2
  ENV_ARGS=(--env "$ENV")
  # the environment's data root (globals.yml), where its model and reports land
  root_line="$(grep -E '^data_root:' "$ROOT/conf/$ENV/globals.yml" 2>/dev/null || true)"
  [ -n "$root_line" ] && DATA_ROOT="$(echo "${root_line#data_root:}" | tr -d ' "'"'")"
fi

# The image is built from what git tracks, as it is in the work tree: data the
# README's other steps generated, a replay's work folder, a game folder not yet
# committed or a local store never reach it. Outside a git checkout (an unpacked
# archive) the folder itself is the context, .dockerignore applied.
CONTEXT="$ROOT"
CLEANUP=()
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  CONTEXT="$(mktemp -d)"
  CLEANUP+=("$CONTEXT")
  git -C "$ROOT" ls-files -z \
    | (cd "$ROOT" && tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) \
    | tar -xf - -C "$CONTEXT" || fail "could not gather the tracked files to build from" 3
fi
trap 'rm -rf "${CLEANUP[@]}"' EXIT

echo "Building $IMAGE from the tracked files of $ROOT"
docker build -t "$IMAGE" "$CONTEXT" || fail "docker build failed" 3
# the build stage's image (compilers' leftovers, Poetry) is not needed any more
docker image prune --force --filter "label=org.kedro-ml.stage=build" >/dev/null 2>&1 || true

CONTAINER="kedro-ml-get-model-$$-${RANDOM}"
trap 'docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; rm -rf "${CLEANUP[@]}"' EXIT

echo "Running $PIPELINE (env $ENV) in container $CONTAINER"
docker run --name "$CONTAINER" "$IMAGE" run --pipelines "$PIPELINE" "${ENV_ARGS[@]}" \
  || fail "pipeline $PIPELINE failed in the container (see the log above)" 4

# The model dataset is versioned: take the newest version the run wrote.
STAGE="$(mktemp -d)"
CLEANUP+=("$STAGE")
docker cp "$CONTAINER:/app/$DATA_ROOT/06_models/sub_churn_model.skops" "$STAGE/versions" \
  || fail "the run wrote no model at $DATA_ROOT/06_models/sub_churn_model.skops" 5
latest="$(ls -1 "$STAGE/versions" | sort | tail -n 1)"
# the model (skops format) and its recorded SHA-256 and model_id
cp "$STAGE/versions/$latest/sub_churn_model.skops" "$OUT/sub_churn.skops"
cp "$STAGE/versions/$latest/sub_churn_model.json" "$OUT/sub_churn.json"
rm -rf "$OUT/reports"
docker cp "$CONTAINER:/app/$DATA_ROOT/08_reporting" "$OUT/reports" || fail "the run wrote no reports" 5

# The run's own summary above names paths inside the container, removed now.
echo
echo "On this machine (the container is removed):"
echo "  model    $OUT/sub_churn.skops (version $latest; its SHA-256 and model_id: $OUT/sub_churn.json)"
echo "  reports  $OUT/reports/"
