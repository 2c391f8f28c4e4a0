"""The state of one Go ``fmt`` print (``pp`` and ``fmt`` in Go): flags, padding, verbs.

Why a port: templates were written against Go's output (``map[a:1 b:2]``, ``1e+06``,
``%!d(string=x)``); bad verbs print markers, never fail. Sizes are checked as the
text grows, and any width or precision is checked before padding is built.
"""

from __future__ import annotations

import math
import struct

from secretsync.gotemplate import gostrconv as sc
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.gotime import time_string
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, GoTime, StrMap, Value, type_name

LDIGITS = "0123456789abcdefx"
UDIGITS = "0123456789ABCDEFX"


class Printer:
    """One ``pp``: the flags of the verb being printed and the text built so far."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.parts: list[str] = []
        self.size = 0
        self.clear()

    def clear(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False

    def write(self, s: str) -> None:
        self.size += len(s)
        if self.size > self.budget.max_value:
            raise Fault("value limit")
        self.parts.append(s)

    def text(self) -> str:
        return "".join(self.parts)

    # --- padding --------------------------------------------------------------------

    def padding(self, n: int) -> str:
        if n <= 0:
            return ""
        self.budget.check_size(n)
        return ("0" if self.zero and not self.minus else " ") * n

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.write(s)
            return
        fill = self.padding(self.wid - len(s))
        self.write(s + fill if self.minus else fill + s)

    def pad_nozero(self, s: str) -> None:
        old = self.zero
        self.zero = False
        self.pad(s)
        self.zero = old

    # --- basic kinds ----------------------------------------------------------------

    def fmt_integer(self, v: int, base: int, verb: str, digits: str) -> None:
        negative = v < 0
        u = -v if negative else v
        prec = 0
        if self.prec_present:
            prec = self.prec
            self.budget.check_size(prec)
            if prec == 0 and u == 0:
                self.pad_nozero("")
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            self.budget.check_size(prec)
            if negative or self.plus or self.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = format(u, "x" if digits is LDIGITS else "X")
        elif base == 8:
            body = format(u, "o")
        else:
            body = format(u, "b")
        if len(body) < prec:
            body = "0" * (prec - len(body)) + body
        if self.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8 and body[0] != "0":
                body = "0" + body
            elif base == 16:
                body = "0" + digits[16] + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif self.plus:
            body = "+" + body
        elif self.space:
            body = " " + body
        self.pad_nozero(body)

    def fmt_unicode(self, u: int) -> None:
        prec = 4
        if self.prec_present and self.prec > 4:
            prec = self.prec
            self.budget.check_size(prec)
        s = f"U+{u:0{prec}X}"
        if self.sharp and u <= 0x10FFFF and sc.is_print(u):
            s += f" '{chr(u)}'"
        self.pad_nozero(s)

    def fmt_c(self, u: int) -> None:
        r = u if 0 <= u <= 0x10FFFF and not 0xD800 <= u <= 0xDFFF else 0xFFFD
        self.pad(chr(r))

    def fmt_float(self, v: float, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
            self.budget.check_size(prec)
        num = _float_special(v, verb, prec) if verb in "xXb" else sc.format_float(v, verb, prec)
        if num[0] not in "+-":
            num = "+" + num
        if self.space and num[0] == "+" and not self.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            if num[1] == "N" and not self.space and not self.plus:
                num = num[1:]
            self.pad_nozero(num)
            return
        if self.sharp and verb != "b":
            num = _sharp_float(num, verb, prec)
        if self.plus or num[0] != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num):
                self.write(num[0] + self.padding(self.wid - len(num)) + num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    def fmt_s(self, s: str) -> None:
        if self.prec_present:
            s = s[: self.prec]
        self.pad(s)

    def fmt_sx(self, s: str, digits: str) -> None:
        b = sc.to_bytes(s)
        length = len(b)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.write(self.padding(self.wid))
            return
        self.budget.check_size(width)
        out: list[str] = []
        if self.wid_present and self.wid > width and not self.minus:
            out.append(self.padding(self.wid - width))
        if self.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            c = b[i]
            out.append(digits[c >> 4] + digits[c & 15])
        if self.wid_present and self.wid > width and self.minus:
            out.append(self.padding(self.wid - width))
        self.write("".join(out))

    def fmt_q(self, s: str) -> None:
        if self.prec_present:
            s = s[: self.prec]
        if self.sharp and sc.can_backquote(s):
            self.pad("`" + s + "`")
            return
        self.pad(sc.quote(s, ascii_only=self.plus))

    # --- dispatch -------------------------------------------------------------------

    def bad_verb(self, verb: str, arg: Value, has_arg: bool = True) -> None:
        self.write("%!" + verb + "(")
        if not has_arg or arg is None:
            self.write("<nil>")
        else:
            self.write(type_name(arg) + "=")
            saved = (self.wid_present, self.prec_present, self.sharp_v, self.plus_v)
            self.print_arg(arg, "v", 0)
            self.wid_present, self.prec_present, self.sharp_v, self.plus_v = saved
        self.write(")")

    def print_arg(self, arg: Value, verb: str, depth: int) -> None:
        self.budget.step()
        if depth > self.budget.limits.max_depth:
            raise Fault("depth limit")
        if arg is None:
            if depth > 0:
                self.write("interface {}(nil)" if self.sharp_v else "<nil>")
            elif verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, None)
            return
        if verb == "T":
            self.fmt_s(type_name(arg))
            return
        if isinstance(arg, bool):
            if verb in "tv":
                self.pad("true" if arg else "false")
            else:
                self.bad_verb(verb, arg)
        elif isinstance(arg, int):
            self.print_int(arg, verb)
        elif isinstance(arg, float):
            self.print_float(arg, verb)
        elif isinstance(arg, str):
            self.print_str(arg, verb)
        elif isinstance(arg, list):
            self.print_list(arg, verb, depth)
        elif isinstance(arg, GoStruct):
            self.print_struct(arg, verb, depth)
        elif isinstance(arg, dict):
            self.print_map(arg, verb, depth)
        elif isinstance(arg, GoTime):
            if verb in "vsqxX":
                self.print_str(time_string(arg), verb)
            else:
                self.bad_verb(verb, time_string(arg))
        else:
            self.write("?")

    def print_int(self, v: int, verb: str) -> None:
        if verb in "vd":
            self.fmt_integer(v, 10, verb, LDIGITS)
        elif verb == "b":
            self.fmt_integer(v, 2, verb, LDIGITS)
        elif verb in "oO":
            self.fmt_integer(v, 8, verb, LDIGITS)
        elif verb == "x":
            self.fmt_integer(v, 16, verb, LDIGITS)
        elif verb == "X":
            self.fmt_integer(v, 16, verb, UDIGITS)
        elif verb == "c":
            self.fmt_c(v)
        elif verb == "q":
            self.pad(sc.quote_rune(v, ascii_only=self.plus))
        elif verb == "U":
            self.fmt_unicode(v if v >= 0 else v + (1 << 64))
        else:
            self.bad_verb(verb, v)

    def print_float(self, v: float, verb: str) -> None:
        if verb == "v":
            self.fmt_float(v, "g", -1)
        elif verb in "bgGxX":
            self.fmt_float(v, verb, -1)
        elif verb in "feE":
            self.fmt_float(v, verb, 6)
        elif verb == "F":
            self.fmt_float(v, "f", 6)
        else:
            self.bad_verb(verb, v)

    def print_str(self, s: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.fmt_q(s)
            else:
                self.fmt_s(s)
        elif verb == "s":
            self.fmt_s(s)
        elif verb == "x":
            self.fmt_sx(s, LDIGITS)
        elif verb == "X":
            self.fmt_sx(s, UDIGITS)
        elif verb == "q":
            self.fmt_q(s)
        else:
            self.bad_verb(verb, s)

    def print_list(self, items: list[Value], verb: str, depth: int) -> None:
        if self.sharp_v:
            self.write("[]interface {}{")
            for i, e in enumerate(items):
                if i:
                    self.write(", ")
                self.print_arg(e, verb, depth + 1)
            self.write("}")
            return
        self.write("[")
        for i, e in enumerate(items):
            if i:
                self.write(" ")
            self.print_arg(e, verb, depth + 1)
        self.write("]")

    def print_struct(self, st: GoStruct, verb: str, depth: int) -> None:
        """A struct as fmt prints it: ``{a b}``, ``{A:a B:b}`` with ``%+v``; a Stringer as its text."""
        if st.stringer is not None:
            if verb in "vsxXq" and not self.sharp_v:
                self.print_str(st.stringer, "s" if verb == "v" else verb)
                return
            self.bad_verb(verb, st.stringer)
            return
        if self.sharp_v:
            self.write(st.go_type + "{")
            for i, f in enumerate(st.fields):
                if i:
                    self.write(", ")
                self.write(f + ":")
                self.print_arg(st[f], verb, depth + 1)
            self.write("}")
            return
        self.write("{")
        for i, f in enumerate(st.fields):
            if i:
                self.write(" ")
            if self.plus_v:
                self.write(f + ":")
            self.print_arg(st[f], verb, depth + 1)
        self.write("}")

    def print_map(self, m: dict[str, Value], verb: str, depth: int) -> None:
        keys = sorted(m, key=sc.to_bytes) if not all(k.isascii() for k in m) else sorted(m)
        if self.sharp_v:
            self.write(("map[string]string" if isinstance(m, StrMap) else "map[string]interface {}") + "{")
        else:
            self.write("map[")
        for i, k in enumerate(keys):
            if i:
                self.write(", " if self.sharp_v else " ")
            self.print_arg(k, verb, depth + 1)
            self.write(":")
            self.print_arg(m[k], verb, depth + 1)
        self.write("}" if self.sharp_v else "]")


def _float_special(v: float, verb: str, prec: int) -> str:
    """%x, %X (hexadecimal mantissa, binary exponent) and %b of a float64."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if verb == "b":
        bits = struct.unpack("<Q", struct.pack("<d", v))[0]
        neg = bits >> 63
        exp = (bits >> 52) & 0x7FF
        mant = bits & ((1 << 52) - 1)
        if exp == 0:
            exp = 1
        else:
            mant |= 1 << 52
        return ("-" if neg else "") + f"{mant}p{exp - 1075:+d}"
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    a = abs(v)
    if a == 0:
        mant, exp = 0, 0
    else:
        m, e = math.frexp(a)  # a = m * 2**e, 0.5 <= m < 1
        mant = int(m * (1 << 53))  # 53-bit integer, top bit set
        exp = e - 1
    # mantissa as 1.xxxxx hex: shift so that the leading 1 sits alone
    frac = mant & ((1 << 52) - 1)
    lead = mant >> 52
    hexdigits = f"{frac:013x}"
    if prec < 0:
        hexdigits = hexdigits.rstrip("0")
    else:
        if prec < 13:
            full = (lead << 52) | frac
            shift = 4 * (13 - prec)
            rounded = (full + (1 << (shift - 1)) - (1 if ((full >> shift) & 1) == 0 else 0)) >> shift
            lead = rounded >> (4 * prec)
            frac2 = rounded & ((1 << (4 * prec)) - 1)
            if lead > 1:
                lead >>= 1
                exp += 1
                frac2 = rounded >> 1 & ((1 << (4 * prec)) - 1)
            hexdigits = f"{frac2:0{prec}x}" if prec else ""
        else:
            hexdigits = hexdigits + "0" * (prec - 13)
    body = f"0x{lead}" + ("." + hexdigits if hexdigits else "") + f"p{exp:+03d}"
    if verb == "X":
        body = body.upper()
    return sign + body


def _sharp_float(num: str, verb: str, prec: int) -> str:
    """The ``#`` flag on floats: always a decimal point, %g keeps trailing zeros."""
    digits = 0
    if verb in "vgGx":  # not X: Go's fmtFloat pads v, g, G and x only
        digits = prec if prec != -1 else 6
    tail = ""
    body = num
    for idx in range(1, len(num)):
        ch = num[idx]
        if ch in "pP" or (ch in "eE" and verb not in "xX"):
            tail = num[idx:]
            body = num[:idx]
            break
    has_point = "." in body
    saw_nonzero = False
    for ch in body[1:]:
        if ch == ".":
            continue
        if ch != "0":
            saw_nonzero = True
        if saw_nonzero:
            digits -= 1
    if not has_point:
        if len(body) == 2 and body[1] == "0":
            digits -= 1
        body += "."
    if digits > 0:
        body += "0" * digits
    return body + tail
