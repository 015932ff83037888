#!/usr/bin/env bash
# npm run bench [-- --only extract,finetune,decode,rss,quickstart,large --rounds N --quick --keep]
# Sets up the Keras venv at bench/.venv once (TensorFlow from PyPI), then runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
REQ=bench/keras/requirements.txt
PY=${TLRUN_BENCH_PYTHON:-python3}
if [ ! -f "$VENV/.requirements" ] || ! cmp -s "$REQ" "$VENV/.requirements"; then
  echo "bench: setting up $VENV from $REQ (once)" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.requirements"
fi
[ -f dist/bench/main.js ] || npx tsc -p tsconfig.json
exec node dist/bench/main.js --python "$VENV/bin/python" "$@"
