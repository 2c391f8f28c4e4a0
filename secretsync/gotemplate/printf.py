"""Go's ``fmt`` printing: ``Sprint``, ``Sprintln``, ``Sprintf`` and the ``%v`` of actions.

Why a port and not ``%`` or ``str.format``: templates were written against Go's
output (``map[a:1 b:2]``, ``1e+06``, ``%!d(string=x)``). Bad verbs never fail, as in
Go; they print markers. Sizes are checked while printing: a width or precision
larger than the value limit fails before anything that large is built, and the
text built so far is measured as it grows.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.printer import Printer
from secretsync.gotemplate.values import Value, type_name

_TOO_LARGE = 1_000_000


def _parsenum(fmt: str, i: int) -> tuple[int, bool, int]:
    num = 0
    isnum = False
    end = len(fmt)
    while i < end and "0" <= fmt[i] <= "9":
        if num > _TOO_LARGE or num < -_TOO_LARGE:
            return 0, False, end
        num = num * 10 + ord(fmt[i]) - 48
        isnum = True
        i += 1
    return num, isnum, i


def _int_from_arg(args: Sequence[Value], n: int) -> tuple[int, bool, int]:
    if n < len(args):
        a = args[n]
        if isinstance(a, int) and not isinstance(a, bool) and -_TOO_LARGE <= a <= _TOO_LARGE:
            return a, True, n + 1
        return 0, False, n + 1
    return 0, False, n


def sprintf(budget: Budget, fmt: str, args: Sequence[Value]) -> str:
    """Go's ``fmt.Sprintf`` (without ``%w``, ``%p``; ``%T`` gives our Go type names)."""
    p = Printer(budget)
    end = len(fmt)
    arg_num = 0
    after_index = False
    reordered = False
    i = 0
    while i < end:
        good_arg_num = True
        last = i
        i = fmt.find("%", i)
        if i < 0:
            i = end
        if i > last:
            p.write(fmt[last:i])
        if i >= end:
            break
        i += 1
        p.clear()
        simple = False
        while i < end:
            c = fmt[i]
            if c == "#":
                p.sharp = True
            elif c == "0":
                p.zero = True
            elif c == "+":
                p.plus = True
            elif c == "-":
                p.minus = True
            elif c == " ":
                p.space = True
            else:
                if "a" <= c <= "z" and arg_num < len(args):
                    if c == "v":
                        p.sharp_v, p.sharp = p.sharp, False
                        p.plus_v, p.plus = p.plus, False
                    p.print_arg(args[arg_num], c, 0)
                    arg_num += 1
                    i += 1
                    simple = True
                break
            i += 1
        if simple:
            continue
        # argument index, width
        arg_num, i, after_index, ok, br = _arg_number(arg_num, fmt, i, len(args))
        reordered = reordered or br
        good_arg_num = good_arg_num and ok
        if i < end and fmt[i] == "*":
            i += 1
            p.wid, p.wid_present, arg_num = _int_from_arg(args, arg_num)
            if not p.wid_present:
                p.write("%!(BADWIDTH)")
            if p.wid < 0:
                p.wid = -p.wid
                p.minus = True
                p.zero = False
            after_index = False
        else:
            p.wid, p.wid_present, i = _parsenum(fmt, i)
            if after_index and p.wid_present:
                good_arg_num = False
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                good_arg_num = False
            arg_num, i, after_index, ok, br = _arg_number(arg_num, fmt, i, len(args))
            reordered = reordered or br
            good_arg_num = good_arg_num and ok
            if i < end and fmt[i] == "*":
                i += 1
                p.prec, p.prec_present, arg_num = _int_from_arg(args, arg_num)
                if p.prec < 0:
                    p.prec = 0
                    p.prec_present = False
                if not p.prec_present:
                    p.write("%!(BADPREC)")
                after_index = False
            else:
                p.prec, p.prec_present, i = _parsenum(fmt, i)
                if not p.prec_present:
                    p.prec = 0
                    p.prec_present = True
        if not after_index:
            arg_num, i, after_index, ok, br = _arg_number(arg_num, fmt, i, len(args))
            reordered = reordered or br
            good_arg_num = good_arg_num and ok
        if i >= end:
            p.write("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            p.write("%")
        elif not good_arg_num:
            p.write("%!" + verb + "(BADINDEX)")
        elif arg_num >= len(args):
            p.write("%!" + verb + "(MISSING)")
        else:
            if verb == "v":
                p.sharp_v, p.sharp = p.sharp, False
                p.plus_v, p.plus = p.plus, False
            if p.wid_present:
                budget.check_size(p.wid)
            p.print_arg(args[arg_num], verb, 0)
            arg_num += 1
    if not reordered and arg_num < len(args):
        p.clear()
        p.write("%!(EXTRA ")
        for k, a in enumerate(args[arg_num:]):
            if k:
                p.write(", ")
            if a is None:
                p.write("<nil>")
            else:
                p.write(type_name(a) + "=")
                p.print_arg(a, "v", 0)
        p.write(")")
    return p.text()


def _arg_number(arg_num: int, fmt: str, i: int, num_args: int) -> tuple[int, int, bool, bool, bool]:
    """An explicit ``[n]`` argument index: (arg_num, i, found, good, bracket seen)."""
    if i >= len(fmt) or fmt[i] != "[":
        return arg_num, i, False, True, False
    rest = fmt[i:]
    if len(rest) < 3:
        return arg_num, i + 1, False, False, True
    j = rest.find("]", 1)
    if j < 0:
        return arg_num, i + 1, False, False, True
    width, ok, newi = _parsenum(rest[:j], 1)
    if not ok or newi != j:
        return arg_num, i + j + 1, False, False, True
    idx = width - 1
    if 0 <= idx < num_args:
        return idx, i + j + 1, True, True, True
    return arg_num, i + j + 1, True, False, True


def sprint(budget: Budget, args: Sequence[Value]) -> str:
    """Go's ``fmt.Sprint``: a space between operands when neither is a string."""
    p = Printer(budget)
    prev_string = False
    for n, a in enumerate(args):
        is_string = isinstance(a, str)
        if n > 0 and not is_string and not prev_string:
            p.write(" ")
        p.clear()
        p.print_arg(a, "v", 0)
        prev_string = is_string
    return p.text()


def sprintln(budget: Budget, args: Sequence[Value]) -> str:
    """Go's ``fmt.Sprintln``: operands always separated by spaces, then a newline."""
    p = Printer(budget)
    for n, a in enumerate(args):
        if n > 0:
            p.write(" ")
        p.clear()
        p.print_arg(a, "v", 0)
    p.write("\n")
    return p.text()


def action_text(budget: Budget, v: Value) -> str:
    """What ``{{ pipeline }}`` prints: ``fmt.Fprint`` of the value, ``<no value>`` for nil."""
    if v is None:
        return "<no value>"
    if isinstance(v, str):
        return v
    return sprint(budget, [v])
