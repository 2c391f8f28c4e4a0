# ruff: noqa: RUF001 - the inputs mix in non-ASCII digits on purpose
"""Generate test inputs (JSON lines) for the yamlcheck harness. Usage: gen.py SEED NRANDOM > cases.jsonl"""

import json
import random
import sys

R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
NRAND = int(sys.argv[2]) if len(sys.argv) > 2 else 3000

HAND = [
    "0",
    "-0",
    "+0",
    "1",
    "+1",
    "-1",
    "007",
    "-007",
    "+007",
    "08",
    "09",
    "010",
    "0o17",
    "0o8",
    "0O17",
    "-0o17",
    "0x1F",
    "0X1F",
    "0x1f",
    "-0x1F",
    "+0x1F",
    "0x",
    "-0x",
    "0x_1F",
    "0x1_F",
    "0b101",
    "0B101",
    "-0b101",
    "+0b101",
    "-0b-101",
    "+0b+101",
    "0b",
    "0b2",
    "-0b",
    "0b_1",
    "-0b_1",
    "0b1_0",
    "0_7",
    "0_8",
    "1_000",
    "_1000",
    "1000_",
    "1__0",
    "-1_000",
    "+1_000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "0xFFFFFFFFFFFFFFFF",
    "0x7FFFFFFFFFFFFFFF",
    "0x8000000000000000",
    "0x10000000000000000",
    "-0xFFFFFFFFFFFFFFFF",
    "-0x8000000000000000",
    "01777777777777777777777",
    "02000000000000000000000",
    "0777777777777777777777",
    "0b1111111111111111111111111111111111111111111111111111111111111111",
    "1:20",
    "1:20:30",
    "-1:20",
    "+1:20",
    "190:20:30.15",
    "1:2:3.5",
    "0:0",
    "12:30",
    "12:30:45",
    "1.5",
    "-1.5",
    "+1.5",
    ".5",
    "-.5",
    "+.5",
    "5.",
    "-5.",
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "1.5e3",
    "-1.5E-3",
    "1_0.5",
    "1.5_0",
    ".5_5",
    "._5",
    ".5_",
    "1e1_0",
    "1e_10",
    "0x1p3",
    "0x1.8p1",
    "0x1P-2",
    "1e999",
    "-1e999",
    "1e-999",
    "-1e-999",
    "4.9e-324",
    "5e-324",
    "2e-324",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0.1",
    "00.5",
    "-00.5",
    "1.2.3",
    "1e",
    "e3",
    ".e3",
    "1.e3",
    ".",
    "-.",
    "+.",
    ".5e",
    ".5e3",
    ".5E+3",
    "-.5e-3",
    "1e3.5",
    "1e+-3",
    "0.0",
    "-0.0",
    "+0.0",
    "0e0",
    "1_e3",
    "123456789012345678901234567890",
    "3.4028235e38",
    "3.4028236e38",
    "1e40",
    "16777217",
    "16777216.5",
    "0.1e-1",
    "1.0",
    "100000000000000000000",
    "1e21",
    "1e20",
    "123456789.123456789",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "+.inf",
    "-.Inf",
    "+.INF",
    ".iNf",
    ".InF",
    "inf",
    "Inf",
    "-inf",
    "Infinity",
    "-Infinity",
    ".nan",
    ".NaN",
    ".NAN",
    ".Nan",
    "nan",
    "NaN",
    "-.nan",
    "+.nan",
    ".nAn",
    "y",
    "Y",
    "yes",
    "Yes",
    "YES",
    "yEs",
    "n",
    "N",
    "no",
    "No",
    "NO",
    "nO",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "tRue",
    "false",
    "False",
    "FALSE",
    "fALSE",
    "on",
    "On",
    "ON",
    "oN",
    "off",
    "Off",
    "OFF",
    "oFF",
    "t",
    "f",
    "T",
    "F",
    "~",
    "null",
    "Null",
    "NULL",
    "nUll",
    "NuLL",
    "Nil",
    "nil",
    "none",
    "None",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14T21:59:43.10Z",
    "2001-12-14T21:59:43Z",
    "2001-12-14T21:59:43z",
    "2001-12-14T21:59:43",
    "2001-12-14T21:59:43+05:30",
    "2001-12-14T21:59:43-05",
    "2001-12-14T21:59:43+0530",
    "2001-12-14T21:59:43+24:00",
    "2001-12-14T21:59:43+25:00",
    "2001-12-14T21:59:43+05:60",
    "2001-12-14T21:59:43+05:61",
    "2001-12-14T21:59:43.123456789123Z",
    "2001-12-14T21:59:43,5Z",
    "2001-12-14T21:59:43.Z",
    "2002-12-14",
    "2001-1-1",
    "2001-02-29",
    "2000-02-29",
    "1900-02-29",
    "2001-13-01",
    "2001-00-10",
    "2001-12-00",
    "2001-12-32",
    "2001-04-31",
    "1-12-14",
    "12001-12-14",
    "0001-01-01",
    "0000-01-01",
    "9999-12-31",
    "2001-12-14T25:00:00Z",
    "2001-12-14T24:00:00Z",
    "2001-12-14T21:60:00Z",
    "2001-12-14T21:59:60Z",
    "2001-1-2T3:4:5Z",
    "2001-01-02T03:04:05.Z",
    "2001-12-14T21:59Z",
    "2001-12-14T21Z",
    "2001/12/14",
    "20011214",
    "2001-12",
    "2001-12-14Z",
    "1.2.3.4",
    "1,000",
    "0x1G",
    "1e3x",
    "--1",
    "+-1",
    "-+1",
    "1-2",
    "1:2",
    "0:0:0.5",
    "v1",
    "1k",
    "$1",
    "1%",
    "1/2",
    "0b102",
    "0o19",
    "0x",
    "1__",
    "0_",
    "_",
    "__",
    "0x_",
    "0o",
    "0o_7",
    "+0o7",
    "-0o7",
    "٣",
    "١٢٣",
    "０１２",
    "1٢3",
    "٠x1F",
    ".٥",
    "1e٣",
    "12³",
    "½",
    "Ⅻ",
    "๑",
    "௧",
    "-١",
    "0x١",
    "1.٥",
    "٣:٤",
    "2001-١2-14",
]

QUOTED = [
    "'1'",
    '"1"',
    "'yes'",
    '"null"',
    "'.inf'",
    '"0x1F"',
    "''",
    '""',
    "'2001-12-14'",
    "!!str 1",
    "!!int 1",
    "!!float 1",
    "!!bool yes",
    "!!null ''",
    "!!binary aGk=",
    "!!timestamp 2001-12-14",
    "!!str yes",
    "!!int 0x1F",
    "!!float .inf",
    "!!int 1.5",
    "!!float abc",
    "!!bool maybe",
    "!!timestamp nope",
]

DOCS = [
    "a: 1\na: 2\n",
    "a: &x 1\nb: *x\n",
    "x: &m {p: 1}\ny:\n  <<: *m\n  q: 2\n",
    "a: 1\n---\nb: 2\n",
    "---\n",
    "",
    "# c\n",
    "{a: 1, b: [1, 2, {c: d}]}",
    "a: [1, .inf]\n",
    "a: .nan\n",
    "1: a\n1.0: b\n",
    "true: 1\nyes: 2\n",
    "~: 1\n",
    "[1]: 2\n",
    "{a: 1}: 2\n",
    "a:\n  - 1\n  -\n",
    "a: |\n  x\n   y\n",
    "a: >\n  x\n  y\n",
    "a: 'it''s'\n",
    'a: "\\x41\\u00e9"\n',
    "? a\n: 1\n",
    "a: b: c\n",
    "a:\tb\n",
    "a: -\n",
    "- a\n",
    "1\n",
    "a: 1 # c\n",
    "0.5: x\n1e3: y\n3.4028236e38: z\n",
    "1e40: x\n",
    "-.inf: x\n",
    ".nan: x\n",
    "0x10: x\n16: y\n",
    "2001-12-14: x\n",
    "2001-12-14T21:59:43Z: x\n",
    "a: 2001-12-14\n",
    "Error: x\n",
    "a: !!str\n",
    "a: !foo x\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: @x\n",
    "a: `x\n",
    "a: [1, 2\n",
    "\ufeffa: 1\n",
    "a: 1\r\nb: 2\r\n",
    "a: \u00851\n",
    "a: x\u2028y\n",
    "a: 9007199254740993\n",
    "a: 18446744073709551615\n",
    "a: -0\n",
    "a: -0.0\n",
]


def from_cases(scalars):
    out = []
    for s in scalars:
        out.append({"op": "from", "y": "a: " + s + "\n", "src": "a: " + s})
    return out


def key_cases(scalars):
    return [{"op": "from", "y": s + ": 1\n", "src": s + ": 1"} for s in scalars]


# ----- random plain scalars from a small grammar -----
ND = "٠١٢٣٤٥٦٧٨٩"


def digits(alpha="0123456789", lo=1, hi=6):
    s = "".join(R.choice(alpha) for _ in range(R.randint(lo, hi)))
    if R.random() < 0.2:
        i = R.randint(0, len(s))
        s = s[:i] + "_" + s[i:]
    if s and R.random() < 0.05:
        i = R.randint(0, len(s) - 1)
        s = s[:i] + R.choice(ND + "０１") + s[i + 1 :]
    return s


def sign():
    return R.choice(["", "", "", "-", "+"])


def rnum():
    k = R.random()
    if k < 0.25:
        p = R.choice(["0x", "0X", "0b", "0B", "0o", "0O", "0", ""])
        alpha = {
            "0x": "0123456789abcdefABCDEF",
            "0X": "0123456789abcdef",
            "0b": "01",
            "0B": "01",
            "0o": "01234567",
            "0O": "01234567",
            "0": "01234567",
        }.get(p, "0123456789")
        if R.random() < 0.1:
            alpha += "89g"
        return sign() + p + digits(alpha, 0 if R.random() < 0.05 else 1, 22 if R.random() < 0.2 else 5)
    if k < 0.6:
        s = sign()
        a = digits() if R.random() < 0.8 else ""
        b = digits() if R.random() < 0.8 else ""
        s += a + "." + b if R.random() < 0.8 else a
        if R.random() < 0.5:
            s += (
                R.choice("eE")
                + R.choice(["", "", "+", "-"])
                + digits("0123456789", 0 if R.random() < 0.05 else 1, 3)
            )
        return s
    if k < 0.7:
        return sign() + R.choice([".", ""]) + "".join(R.choice("iInNfFaA") for _ in range(3))
    if k < 0.8:
        w = R.choice(
            ["y", "yes", "n", "no", "on", "off", "true", "false", "null", "t", "f", "nil", "inf", "nan"]
        )
        return "".join(c.upper() if R.random() < 0.4 else c for c in w)
    if k < 0.9:  # timestamps
        y = R.choice(["2001", "2000", "1900", "0001", "9999", "201", "20011", "2024"])
        mo = R.choice(["1", "01", "02", "12", "13", "00", "2"])
        d = R.choice(["1", "01", "28", "29", "30", "31", "32", "00", "9"])
        s = f"{y}-{mo}-{d}"
        if R.random() < 0.7:
            s += R.choice(["T", "t", " ", "  ", "\t", "x"])
            s += ":".join(
                R.choice(["0", "00", "9", "23", "24", "59", "60", "1"]) for _ in range(R.choice([3, 3, 3, 2]))
            )
            if R.random() < 0.5:
                s += R.choice([".", ","]) + digits("0123456789", 0, 12)
            if R.random() < 0.7:
                s += R.choice(["", " ", "  "]) + R.choice(
                    [
                        "Z",
                        "z",
                        "+05:30",
                        "-05",
                        "+0530",
                        "-5",
                        "+24:00",
                        "+25:00",
                        "+05:60",
                        "+05:61",
                        "+5:3",
                        "-05:00",
                    ]
                )
        return s
    # base-60-ish
    return (
        sign()
        + ":".join(digits("0123456789", 1, 3) for _ in range(R.randint(2, 4)))
        + (R.choice(["", ".5", ".1e3"]))
    )


SOUP = "0123456789_.-+eExXbBoOpP:aAnNfFiItTyYlLsSuUrR~ ٣０,ZzT"


def soup():
    return "".join(R.choice(SOUP) for _ in range(R.randint(1, 9))).strip() or "0"


def rdoc():
    s = rnum() if R.random() < 0.7 else soup()
    while "\t" in s and R.random() < 0.5:
        s = rnum()
    k = R.random()
    if k < 0.8:
        return {"op": "from", "y": "a: " + s + "\n", "src": "a: " + s}
    if k < 0.93:
        return {"op": "from", "y": s + ": 1\n", "src": s + ": 1"}
    return {"op": "from", "y": "a: [" + s + ", x]\n", "src": "a: [" + s + ", x]"}


# ----- toYaml -----
KEYPOOL = [
    "a",
    "A",
    "b",
    "B",
    "a1",
    "a10",
    "a9",
    "a01",
    "a010",
    "A1",
    "a1b",
    "a1b2",
    "a10b1",
    "1",
    "10",
    "9",
    "01",
    "-1",
    "1.5",
    "",
    " ",
    "_",
    "a_1",
    "a 1",
    "é",
    "É",
    "ÿ1",
    "a٣",
    "a١٢",
    "٣",
    "a３",
    "a²",
    "aⅫ",
    "a9999999999999999999",
    "a18446744073709551616",
    "yes",
    "Yes",
    "null",
    "~",
    "0x1F",
    "true",
    "On",
    "ab",
    "aB",
    "Ab",
    "a-1",
    "a.1",
    "a1.5",
    "z",
    "Z",
    "\u00e9a",
    "e\u0301",
    "日本",
    "a\U0001f600",
    "1e3",
    ".inf",
]


def rstrval():
    k = R.random()
    if k < 0.6:
        return rnum()
    if k < 0.75:
        return R.choice(HAND)
    if k < 0.8:
        return R.choice(
            [
                " a",
                "a ",
                "a: b",
                "- a",
                "#x",
                "a #b",
                "'a'",
                '"a"',
                "a\nb",
                "a\n",
                "\n",
                "",
                "@a",
                "`a",
                "%a",
                "!a",
                "&a",
                "*a",
                "|",
                ">",
                "?",
                "? a",
                "a,b",
                "[a]",
                "{a}",
                "=",
                "<<",
                "\t",
                "a\tb",
                "é",
                "\u2028",
                "\x85",
                "\ufeff",
                "a\u00a0",
                "---",
                "...",
                "- ",
                "-",
                ":",
                "a:",
            ]
        )
    return "".join(R.choice("ab1٣0:_. -") for _ in range(R.randint(1, 6)))


def rval(depth=0):
    k = R.random()
    if depth > 3:
        k = min(k, 0.59)
    if k < 0.35:
        return rstrval()
    if k < 0.45:
        return R.choice(
            [
                0,
                1,
                -1,
                9007199254740993,
                2**63 - 1,
                -(2**63),
                1.5,
                -0.0,
                1e21,
                1e20,
                1e-7,
                1e-6,
                0.1,
                123456789.0,
                1e19,
                1.8446744073709552e19,
                2.0**64,
                3.4e38,
                1e300,
                5e-324,
                100.0,
                True,
                False,
                None,
                10**20,
            ]
        )
    if k < 0.6:
        return R.choice(
            [
                True,
                False,
                None,
                R.randint(-(10**6), 10**6),
                R.uniform(-1e6, 1e6),
                R.randint(-(2**63), 2**63 - 1),
            ]
        )
    if k < 0.8:
        return [rval(depth + 1) for _ in range(R.randint(0, 3))]
    return {
        R.choice(KEYPOOL) if R.random() < 0.8 else rstrval(): rval(depth + 1) for _ in range(R.randint(0, 5))
    }


def to_cases_hand():
    out = [{"op": "to", "v": s} for s in HAND + QUOTED]
    out += [{"op": "to", "v": {k: i}} for i, k in enumerate(KEYPOOL)]
    out.append({"op": "to", "v": {k: i for i, k in enumerate(KEYPOOL)}})
    out.append({"op": "to", "v": {k: [k, [k]] for k in KEYPOOL}})
    return out


cases = (
    [{"op": "from", "y": d, "src": d} for d in DOCS]
    + from_cases(HAND)
    + from_cases(QUOTED)
    + key_cases(HAND)
    + to_cases_hand()
)
cases += [rdoc() for _ in range(NRAND)]
cases += [{"op": "to", "v": rval()} for _ in range(NRAND // 2)]
cases += [
    {"op": "to", "v": {R.choice(KEYPOOL): rval(2) for _ in range(R.randint(2, 8))}} for _ in range(NRAND // 3)
]
for c in cases:
    print(json.dumps(c, ensure_ascii=False))
