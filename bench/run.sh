#!/usr/bin/env bash
# npm run bench [-- --only extract,finetune,decode,rss,quickstart,large,folder,audit --rounds N --quick --keep --folder-sizes N,M]
# Sets up the Keras venv at bench/.venv once (TensorFlow from PyPI), then runs the suite. Only the
# extract and finetune sections compare with Keras: an --only without them needs no venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
REQ=bench/keras/requirements.txt
PY=${TLRUN_BENCH_PYTHON:-python3}
ONLY=all
prev=
for a in "$@"; do [ "$prev" = --only ] && ONLY=$a; prev=$a; done
NEEDS_KERAS=yes
case ",$ONLY," in ,all,|*,extract,*|*,finetune,*) ;; *) NEEDS_KERAS=no ;; esac
if [ "$NEEDS_KERAS" = yes ] && { [ ! -f "$VENV/.requirements" ] || ! cmp -s "$REQ" "$VENV/.requirements"; }; then
  echo "bench: setting up $VENV from $REQ (once)" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.requirements"
fi
[ -f dist/bench/main.js ] || npx tsc -p tsconfig.json
exec node dist/bench/main.js --python "$VENV/bin/python" "$@"
