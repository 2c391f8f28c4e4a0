"""Compare secretsync's fromYaml/toYaml with ESO's (Go, ./yc built by run.sh).
Usage: .venv/bin/python tests/differential/yaml/run.py CASES.jsonl [DIFFS.jsonl]
Only successful outputs are compared; when both fail it is a match (error texts differ by design)."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from secretsync.gotemplate import render  # after the repository is on the path

HERE = os.path.dirname(os.path.abspath(__file__))
I64 = (-(2**63), 2**63 - 1)


def pint(s):
    i = int(s)
    return i if I64[0] <= i <= I64[1] else float(s)


def ours(c):
    try:
        if c["op"] == "from":
            out = render({"t": "{{ fromYaml .y | toJson }}"}, {"y": c["y"]})["t"]
            try:
                ok = "Error" not in json.loads(out)
            except ValueError:
                ok = True
            return ok, out
        v = json.loads(json.dumps(c["v"]), parse_int=pint)
        out = render({"t": "{{ toYaml .v }}"}, {"v": v})["t"]
        return out != "" or v == "", out  # toYAML swallows errors into ""
    except Exception as e:
        return False, f"EXC {type(e).__name__}: {e}"


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    inp = "".join(json.dumps({"op": c["op"], "y": c.get("y", ""), "v": c.get("v")}) + "\n" for c in cases)
    go = (
        subprocess.run([os.path.join(HERE, "yc")], input=inp.encode(), capture_output=True, check=True)
        .stdout.decode()
        .split("\n")[:-1]
    )
    assert len(go) == len(cases)
    diffs = []
    nondet = 0
    nfrom = sum(c["op"] == "from" for c in cases)
    for c, gl in zip(cases, go, strict=False):
        g = json.loads(gl)
        pok, pout = ours(c)
        outs = g.get("outs") or [g["out"]]
        if len(outs) > 1:
            nondet += 1
        same = (not g["ok"] and not pok) or (g["ok"] and pok and pout in outs)
        if not same:
            diffs.append({"case": c, "go": g, "ours": {"ok": pok, "out": pout}})
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "diffs.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for d in diffs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(
        f"{len(cases)} inputs ({nfrom} fromYaml, {len(cases) - nfrom} toYaml), {len(diffs)} differ -> {out}; "
        f"{nondet} toYaml inputs have more than one Go output (key order; ours accepted if it is one of them)"
    )


if __name__ == "__main__":
    main()
