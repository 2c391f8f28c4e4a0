"""Group diffs.jsonl by cause. Usage: python3 analyze.py [diffs.jsonl]"""

import collections
import itertools
import json
import re
import sys

import yaml


def text(c):
    return c.get("y") if c["op"] == "from" else json.dumps(c["v"], ensure_ascii=False)


BAD_CTRL = set(chr(i) for i in range(0x7F, 0xA0) if i != 0x85) | {"\ufffe", "\uffff"}


def key_orders(out):
    """path -> key order of every mapping in a YAML text (None when PyYAML cannot read it)."""
    try:
        node = yaml.compose(out, Loader=yaml.SafeLoader)
    except Exception:
        return None
    res = {}

    def walk(n, path):
        if isinstance(n, yaml.MappingNode):
            res[path] = [k.value for k, _ in n.value]
            for k, v in n.value:
                walk(v, (*path, k.value))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*path, i))

    walk(node, ())
    return res


def pair_check(outs, ours):
    """Does ours keep every key pair whose relative order is the same in all Go outputs?"""
    go = [key_orders(o) for o in outs]
    me = key_orders(ours)
    if me is None or any(g is None for g in go):
        return "unparsed"
    bad = []
    for path, keys in me.items():
        gl = [g.get(path) for g in go]
        if any(x is None or sorted(x) != sorted(keys) for x in gl):
            return "structure differs"
        for a, b in itertools.combinations(keys, 2):  # ours: a before b
            if all(x.index(a) > x.index(b) for x in gl):
                bad.append((path, b, a))
    return (
        "ok"
        if not bad
        else f"violates {len(bad)} always-same pairs, e.g. Go always has {bad[0][1]!r} before "
        f"{bad[0][2]!r} at {bad[0][0]!r}"
    )


def cause(d):
    c, g, o = d["case"], d["go"], d["ours"]
    t = text(c)
    if c["op"] == "from" and "!!" in t:
        return "A explicit tag (!!null/!!binary/!!int ...)"
    if c["op"] == "from" and "<<:" in t:
        return "A2 merge key <<"
    if c["op"] == "from" and re.search(r"[^\s\[{,]:[,\]}]", t):
        return (
            "G fromYaml flow context: plain scalar with ':' just before , ] } "
            "(yaml.v2 keeps it in the scalar; libyaml 0.2 refuses)"
        )
    if c["op"] == "to":
        if any(ch in BAD_CTRL for ch in t) and not g["ok"]:
            return (
                "B toYaml: char yaml.v2's reader rejects (U+007F-U+009F except U+0085, U+FFFE/U+FFFF): "
                "Go fails"
            )
        if "\x85" in t:
            return "C toYaml: U+0085 NEL (encoding/json leaves it raw; yaml.v2 reads it as a line break)"
        if t.startswith('"\ufeff') or '"\ufeff' in t:
            return (
                "D toYaml: string starting with U+FEFF (yaml.v2 is_bom ignores its index: every char escaped)"
            )
        if "\u2028" in t or "\u2029" in t:
            return "E toYaml: U+2028/U+2029 at the end of a single-quoted scalar (PyYAML writes an indent)"
        if len(g.get("outs") or []) > 1:
            return f"F toYaml key order: Go itself nondeterministic ({pair_check(g['outs'], o['out'])})"
    return "Z other"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "diffs.jsonl"
    with open(path, encoding="utf-8") as f:
        diffs = [json.loads(line) for line in f]
    groups = collections.defaultdict(list)
    for d in diffs:
        groups[cause(d)].append(d)
    for k in sorted(groups):
        print(f"{len(groups[k]):4d}  {k}")
    print()
    for k in sorted(groups):
        print("==", k)
        for d in groups[k][:6]:
            g = d["go"]
            print("  in  :", ascii(text(d["case"]))[:200])
            print(
                "  go  :",
                ("ok " if g["ok"] else "ERR ") + ascii(g["out"])[:200],
                f"({len(g.get('outs') or [1])} distinct Go outputs)" if len(g.get("outs") or []) > 1 else "",
            )
            print("  ours:", ("ok " if d["ours"]["ok"] else "ERR ") + ascii(d["ours"]["out"])[:200])


if __name__ == "__main__":
    main()
