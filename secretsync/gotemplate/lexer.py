"""Tokens of Go's ``text/template``, scanned the way ``parse/lex.go`` scans them.

Why a faithful port: trim markers (``{{- `` and `` -}}``), comments, what ends a
field name and which characters start a number decide what a template means.
The whole source (at most ``max_source_bytes``) is scanned up front into a list;
positions are character offsets into the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from secretsync.gotemplate import gostrconv as sc
from secretsync.gotemplate.errors import MAX_DETAIL, Fault


class T(IntEnum):
    """Item types (``itemType`` in Go)."""

    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONST = 3
    ASSIGN = 4
    DECLARE = 5
    EOF = 6
    FIELD = 7
    IDENT = 8
    LEFT_DELIM = 9
    LPAREN = 10
    NUMBER = 11
    PIPE = 12
    RAW_STRING = 13
    RPAREN = 14
    RIGHT_DELIM = 15
    SPACE = 16
    STRING = 17
    TEXT = 18
    VARIABLE = 19
    # keywords
    BLOCK = 20
    BREAK = 21
    CONTINUE = 22
    DOT = 23
    DEFINE = 24
    ELSE = 25
    END = 26
    IF = 27
    NIL = 28
    RANGE = 29
    TEMPLATE = 30
    WITH = 31


KEYWORDS = {
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

LEFT = "{{"
RIGHT = "}}"
SPACE_CHARS = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Item:
    typ: T
    pos: int
    val: str


def _is_space(c: str) -> bool:
    return c in SPACE_CHARS and c != ""


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


def _rune_name(c: str) -> str:
    """Go's ``%#U`` of a character: ``U+00E9 'é'``, or ``U+0001`` for one that does not print."""
    name = f"U+{ord(c):04X}"
    return f"{name} '{c}'" if sc.is_print(ord(c)) else name


class Lexer:
    """Scans a whole source into items; a lexing fault ends them with an ERROR item."""

    def __init__(self, src: str, break_ok: bool, continue_ok: bool) -> None:
        self.src = src
        self.n = len(src)
        self.pos = 0
        self.start = 0
        self.items: list[Item] = []
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    # --- helpers ------------------------------------------------------------------------

    def _peek(self) -> str:
        return self.src[self.pos] if self.pos < self.n else ""

    def _emit(self, typ: T) -> None:
        self.items.append(Item(typ, self.start, self.src[self.start : self.pos]))
        self.start = self.pos

    def _error(self, detail: str) -> Fault:
        return Fault("syntax", detail, self.start)

    def _has_left_trim(self, i: int) -> bool:
        return i + 1 < self.n and self.src[i] == "-" and _is_space(self.src[i + 1])

    def _has_right_trim(self, i: int) -> bool:
        return i + 1 < self.n and _is_space(self.src[i]) and self.src[i + 1] == "-"

    def _at_right_delim(self) -> tuple[bool, bool]:
        if self._has_right_trim(self.pos) and self.src.startswith(RIGHT, self.pos + 2):
            return True, True
        if self.src.startswith(RIGHT, self.pos):
            return True, False
        return False, False

    def _at_terminator(self) -> bool:
        c = self._peek()
        if c == "" or _is_space(c) or c in ".,|:)(":
            return True
        return self.src.startswith(RIGHT, self.pos)

    # --- driver -------------------------------------------------------------------------

    def run(self) -> list[Item]:
        """The items up to EOF, or up to a lexing fault, which ends them as an ERROR item (Go's
        itemError): the parser raises it when it reads that far. Go lexes on demand, so a fault
        its parser finds in the tokens before comes first (``{{ $x : 1 }}`` is "undefined
        variable"); this order is the same."""
        try:
            while self._lex_text():
                self._lex_inside_action()
        except Fault as fault:
            self.items.append(Item(T.ERROR, fault.pos or 0, fault.detail or ""))
            return self.items
        self.items.append(Item(T.EOF, self.n, ""))
        return self.items

    def _lex_text(self) -> bool:
        """Text up to the next action; False at end of input."""
        while True:
            x = self.src.find(LEFT, self.pos)
            if x < 0:
                self.pos = self.n
                if self.pos > self.start:
                    self._emit(T.TEXT)
                return False
            text_end = x
            after = x + len(LEFT)
            trim = self._has_left_trim(after)
            if trim:
                text_end = len(self.src[self.start : x].rstrip(SPACE_CHARS)) + self.start
            if text_end > self.start:
                self.items.append(Item(T.TEXT, self.start, self.src[self.start : text_end]))
            self.pos = after
            self.start = x
            after_marker = 2 if trim else 0
            if self.src.startswith("/*", self.pos + after_marker):
                self.pos += after_marker
                self.start = self.pos
                self._lex_comment()
                continue
            self.items.append(Item(T.LEFT_DELIM, x, LEFT))
            self.pos += after_marker
            self.start = self.pos
            self.paren_depth = 0
            return True

    def _lex_comment(self) -> None:
        self.pos += 2
        x = self.src.find("*/", self.pos)
        if x < 0:
            raise self._error("unclosed comment")
        self.pos = x + 2
        delim, trim = self._at_right_delim()
        if not delim:
            raise self._error("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(RIGHT)
        if trim:
            while self.pos < self.n and _is_space(self.src[self.pos]):
                self.pos += 1
        self.start = self.pos

    def _lex_right_delim(self, trim: bool) -> None:
        if trim:
            self.pos += 2
            self.start = self.pos
        self.pos += len(RIGHT)
        self._emit(T.RIGHT_DELIM)
        if trim:
            while self.pos < self.n and _is_space(self.src[self.pos]):
                self.pos += 1
            self.start = self.pos

    def _lex_inside_action(self) -> None:
        src = self.src
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth == 0:
                    self._lex_right_delim(trim)
                    return
                raise self._error("unclosed left paren")
            if self.pos >= self.n:
                raise self._error("unclosed action")
            c = src[self.pos]
            self.pos += 1
            if _is_space(c):
                self.pos -= 1
                self._lex_space()
            elif c == "=":
                self._emit(T.ASSIGN)
            elif c == ":":
                if self._peek() != "=":
                    raise self._error("expected :=")
                self.pos += 1
                self._emit(T.DECLARE)
            elif c == "|":
                self._emit(T.PIPE)
            elif c == '"':
                self._lex_quote()
            elif c == "`":
                x = src.find("`", self.pos)
                if x < 0:
                    raise self._error("unterminated raw quoted string")
                self.pos = x + 1
                self._emit(T.RAW_STRING)
            elif c == "$":
                self._lex_field_or_variable(T.VARIABLE)
            elif c == "'":
                self._lex_char()
            elif c == "." and self.pos < self.n and not "0" <= src[self.pos] <= "9":
                self._lex_field_or_variable(T.FIELD)
            elif c in "+-." or "0" <= c <= "9":
                self.pos -= 1
                self._lex_number()
            elif _is_alnum(c):
                self.pos -= 1
                self._lex_identifier()
            elif c == "(":
                self.paren_depth += 1
                self._emit(T.LPAREN)
            elif c == ")":
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    raise self._error("unexpected right paren")
                self._emit(T.RPAREN)
            elif c.isascii() and c.isprintable():
                self._emit(T.CHAR)
            else:
                raise self._error("unrecognized character in action: " + _rune_name(c))

    def _lex_space(self) -> None:
        """A run of spaces; before ``-}}`` its last space is left to the trim marker. (Go's lexSpace
        also goes to the right delimiter when that leaves no space; it cannot: one space before
        ``-}}`` is a trim marker, which lexInsideAction, like ours, checks for first.)"""
        while self.pos < self.n and _is_space(self.src[self.pos]):
            self.pos += 1
        if self._has_right_trim(self.pos - 1) and self.src.startswith(RIGHT, self.pos + 1):
            self.pos -= 1
        self._emit(T.SPACE)

    def _lex_identifier(self) -> None:
        while self.pos < self.n and _is_alnum(self.src[self.pos]):
            self.pos += 1
        word = self.src[self.start : self.pos]
        if not self._at_terminator():
            raise self._error("bad character " + _rune_name(self.src[self.pos]))
        kw = KEYWORDS.get(word)
        if kw is not None:
            if (kw == T.BREAK and not self.break_ok) or (kw == T.CONTINUE and not self.continue_ok):
                self._emit(T.IDENT)
            else:
                self._emit(kw)
        elif word in ("true", "false"):
            self._emit(T.BOOL)
        else:
            self._emit(T.IDENT)

    def _lex_field_or_variable(self, typ: T) -> None:
        if self._at_terminator():
            self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return
        while self.pos < self.n and _is_alnum(self.src[self.pos]):
            self.pos += 1
        if not self._at_terminator():
            raise self._error("bad character " + _rune_name(self.src[self.pos]))
        self._emit(typ)

    def _lex_char(self) -> None:
        self._lex_delimited("'", "unterminated character constant")
        self._emit(T.CHAR_CONST)

    def _lex_quote(self) -> None:
        self._lex_delimited('"', "unterminated quoted string")
        self._emit(T.STRING)

    def _lex_delimited(self, close: str, unterminated: str) -> None:
        """Skip to the closing quote, honouring backslash escapes; a newline or the end is an error."""
        while True:
            c = self._peek()
            self.pos += 1
            if c == "\\":
                d = self._peek()
                self.pos += 1
                if d not in ("", "\n"):
                    continue
                raise self._error(unterminated)
            if c in ("", "\n"):
                raise self._error(unterminated)
            if c == close:
                return

    def _accept(self, valid: str) -> bool:
        if self.pos < self.n and self.src[self.pos] in valid:
            self.pos += 1
            return True
        return False

    def _accept_run(self, valid: str) -> None:
        while self.pos < self.n and self.src[self.pos] in valid:
            self.pos += 1

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if self.pos < self.n and _is_alnum(self.src[self.pos]):
            self.pos += 1
            return False
        return True

    def _bad_number(self) -> Fault:
        """Go's "bad number syntax" with the number as far as it was read (%q-quoted)."""
        return self._error("bad number syntax: " + sc.quote(self.src[self.start : self.pos][:MAX_DETAIL]))

    def _lex_number(self) -> None:
        if not self._scan_number():
            raise self._bad_number()
        if self._peek() in ("+", "-"):
            # Go's complex constant (1+2i): a second number right after, ending in 'i'; "1+2" is
            # no sum but a bad number
            if not self._scan_number() or self.src[self.pos - 1] != "i":
                raise self._bad_number()
            raise self._error("complex numbers are not supported")
        if self.src[self.pos - 1] == "i":
            raise self._error("complex numbers are not supported")
        self._emit(T.NUMBER)


def lex(src: str, break_ok: bool, continue_ok: bool) -> list[Item]:
    return Lexer(src, break_ok, continue_ok).run()
