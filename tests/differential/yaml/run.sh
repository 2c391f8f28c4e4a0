#!/bin/sh
# The whole differential check of fromYaml/toYaml against ESO's functions on sigs.k8s.io/yaml
# (README.md). Needs Go 1.22+ and the module proxy (or cache); run from anywhere after `make test`
# or `make demo` created .venv. Writes build/differential-yaml/ and prints the grouped differences.
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT="$ROOT/build/differential-yaml"
PY="$ROOT/.venv/bin/python"
mkdir -p "$OUT"
(cd "$HERE" && go build -o yc .)
"$PY" "$HERE/gen.py" 1 3000 | cat - "$HERE/hand_chars.jsonl" "$HERE/hand_flow.jsonl" "$HERE/hand_tags.jsonl" "$HERE/hand_bom.jsonl" "$HERE/hand_separators.jsonl" > "$OUT/all.jsonl"  # + hand-picked chars, flow, tags and merges, BOMs, U+2028
"$PY" "$HERE/gen.py" 2 20000 > "$OUT/big.jsonl"                                  # hand-picked + 20,000 random
"$PY" "$HERE/gen.py" 3 20000 | grep '"op": "from"' > "$OUT/soup.jsonl"           # fromYaml only, char soup
for s in all big soup; do
  "$PY" "$HERE/run.py" "$OUT/$s.jsonl" "$OUT/$s.diffs.jsonl"
done
cat "$OUT/all.diffs.jsonl" "$OUT/big.diffs.jsonl" "$OUT/soup.diffs.jsonl" > "$OUT/diffs.jsonl"
"$PY" "$HERE/analyze.py" "$OUT/diffs.jsonl" > "$OUT/analysis.txt"
head -20 "$OUT/analysis.txt"
