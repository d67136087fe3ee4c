#!/usr/bin/env bash
# Rasa 3.6 against the built-in engine on tests/data/nlu_eval*.yml.
#
# Builds Rasa in its own Python 3.10 virtual environment (bench/.rasa-venv, git-ignored),
# trains it on `trolyso nlu export-rasa`, serves it with `rasa run --enable-api` on loopback,
# and prints both engines' accuracy and latency. Not part of `make test`: the first run
# downloads TensorFlow and takes a while.
#
#   bash bench/rasa_compare/run.sh            # PY310=/path/to/python3.10 to choose Python
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/bench/.rasa-venv"
OUT="$ROOT/bench/out/rasa-project"
PORT="${RASA_PORT:-5055}"
PY310="${PY310:-$HOME/.pyenv/versions/3.10.13/bin/python}"

if [ ! -x "$VENV/bin/rasa" ]; then
    echo "== creating $VENV with $PY310"
    "$PY310" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade "pip<24.1" setuptools wheel
    "$VENV/bin/pip" install -q "rasa==3.6.*"
fi
"$VENV/bin/rasa" --version 2>/dev/null | grep -m1 "Rasa Version" || true

echo "== exporting the training data"
rm -rf "$OUT"
"$ROOT/.venv/bin/trolyso" --config "$ROOT/config.yaml" nlu export-rasa "$OUT"

echo "== training (rasa train nlu)"
cd "$OUT"
start=$(date +%s.%N)
"$VENV/bin/rasa" train nlu --fixed-model-name trolyso --quiet > "$OUT/train.log" 2>&1
end=$(date +%s.%N)
python3 -c "print(f'{$end - $start:.1f}')" > "$OUT/train_seconds"
echo "trained in $(cat "$OUT/train_seconds") s"

echo "== serving on 127.0.0.1:$PORT"
"$VENV/bin/rasa" run --enable-api -i 127.0.0.1 -p "$PORT" -m "$OUT/models" > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT/status" > /dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then echo "rasa run exited:"; tail -20 "$OUT/serve.log"; exit 1; fi
    sleep 2
done

echo "== comparing"
"$ROOT/.venv/bin/python" "$ROOT/bench/rasa_compare/compare.py" --url "http://127.0.0.1:$PORT" \
    --train-seconds "$(cat "$OUT/train_seconds")" "$@"
