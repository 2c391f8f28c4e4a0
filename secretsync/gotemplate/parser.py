"""Items to parse trees, following ``parse/parse.go``.

Why bounded: the parser recurses once per nested control structure or parenthesis;
``max_depth`` caps that nesting so a hostile source cannot exhaust the Python stack.
Unknown functions and reading an undefined variable are parse errors, as in Go (assigning to one
fails when executed, as in Go).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from secretsync.gotemplate import gostrconv as sc
from secretsync.gotemplate import nodes as n
from secretsync.gotemplate.errors import MAX_DETAIL, Fault
from secretsync.gotemplate.lexer import Item, T, lex
from secretsync.gotemplate.refused import REFUSED

_TERM_START = {
    T.BOOL,
    T.CHAR_CONST,
    T.DOT,
    T.FIELD,
    T.IDENT,
    T.NUMBER,
    T.NIL,
    T.RAW_STRING,
    T.STRING,
    T.VARIABLE,
    T.LPAREN,
}


def _describe(item: Item) -> str:
    """Go's ``item.String()``: a keyword (``.`` and ``nil`` too) in angle brackets, any other token
    Go-quoted as written (a string with its quotes); past 10 bytes, its first 10 characters and
    "..."."""
    if item.typ >= T.BLOCK:
        return f"<{item.val}>"
    if len(item.val.encode("utf-8", "surrogatepass")) > 10:
        return sc.quote(item.val[:10]) + "..."
    return sc.quote(item.val)


def _quoted(text: str) -> str:
    """Go's ``%q`` of a source token, cut first to what an error message keeps."""
    return sc.quote(text[:MAX_DETAIL])


def _term_text(node: n.Node) -> str:
    """Go's ``String()`` of a constant term: as written."""
    if isinstance(node, n.BoolNode):
        return "true" if node.value else "false"
    if isinstance(node, n.StringNode):
        return node.quoted
    if isinstance(node, n.NumberNode):
        return node.text
    return "nil" if isinstance(node, n.NilNode) else "."


class Parser:
    """One source: the main template and every ``define``/``block`` in it."""

    def __init__(self, name: str, src: str, funcs: Mapping[str, Any], max_depth: int) -> None:
        self.name = name
        self.funcs = funcs
        self.max_depth = max_depth
        self.items = lex(src, "break" not in funcs, "continue" not in funcs)
        self.items.extend([self.items[-1]] * 3)
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0
        self.trees: dict[str, n.ListNode] = {}

    # --- tokens -------------------------------------------------------------------------

    def next(self) -> Item:
        """The next item; reading the lexer's ERROR item raises its fault (Go's parser meets
        itemError only where no token of that type fits, and reports the lexer's text)."""
        it = self.items[self.i]
        if it.typ == T.ERROR:
            raise Fault("syntax", it.val, it.pos)
        if self.i < len(self.items) - 1:
            self.i += 1
        return it

    def backup(self) -> None:
        self.i -= 1

    def peek(self) -> Item:
        return self.items[self.i]

    def next_non_space(self) -> Item:
        while True:
            it = self.next()
            if it.typ != T.SPACE:
                return it

    def peek_non_space(self) -> Item:
        """The next item that is no space, without reading it (an ERROR item too)."""
        while self.items[self.i].typ == T.SPACE:
            self.i += 1
        return self.items[self.i]

    def fail(self, item: Item, detail: str, kind: str = "syntax") -> Fault:
        return Fault(kind, detail, item.pos)

    def unexpected(self, item: Item, context: str) -> Fault:
        return self.fail(item, f"unexpected {_describe(item)} in {context}")

    def expect(self, typ: T, context: str) -> Item:
        it = self.next_non_space()
        if it.typ != typ:
            raise self.unexpected(it, context)
        return it

    def enter(self, item: Item) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.fail(item, "nesting", "depth limit")

    # --- structure ----------------------------------------------------------------------

    def parse(self) -> dict[str, n.ListNode]:
        root = n.ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                save = self.i
                self.next()
                if self.next_non_space().typ == T.DEFINE:
                    self.parse_definition()
                    continue
                self.i = save
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                keyword = "end" if isinstance(node, n.EndNode) else "else"
                raise self.fail(self.items[self.i - 1], "unexpected {{" + keyword + "}}")
            root.nodes.append(node)
        self.add(self.name, root, self.peek())
        return self.trees

    def add(self, name: str, body: n.ListNode, at: Item) -> None:
        existing = self.trees.get(name)
        if existing is None or n.is_empty_tree(existing):
            self.trees[name] = body
        elif not n.is_empty_tree(body):
            raise self.fail(at, "multiple definition of template")

    def parse_definition(self) -> None:
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(tok, context)
        name = self.unquote(tok)
        self.expect(T.RIGHT_DELIM, context)
        saved = (self.vars, self.range_depth)
        self.vars, self.range_depth = ["$"], 0
        self.enter(tok)
        body, end = self.item_list()
        self.depth -= 1
        if not isinstance(end, n.EndNode):
            raise self.fail(tok, "unexpected {{else}} in define clause")
        self.vars, self.range_depth = saved
        self.add(name, body, tok)

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                return lst, node
            lst.nodes.append(node)
        raise self.fail(self.peek(), "unexpected EOF")

    def text_or_action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.typ == T.TEXT:
            return n.TextNode(tok.pos, tok.val)
        if tok.typ == T.LEFT_DELIM:
            return self.action()
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T.BLOCK:
            return self.block_control(tok)
        if typ in (T.BREAK, T.CONTINUE):
            nxt = self.next_non_space()
            if nxt.typ != T.RIGHT_DELIM:
                raise self.unexpected(nxt, "{{" + tok.val + "}}")
            if self.range_depth == 0:
                raise self.fail(tok, "{{" + tok.val + "}} outside {{range}}")
            return n.BreakNode(tok.pos) if typ == T.BREAK else n.ContinueNode(tok.pos)
        if typ == T.ELSE:
            peek = self.peek_non_space()
            if peek.typ in (T.IF, T.WITH):
                return n.ElseNode(peek.pos)
            self.expect(T.RIGHT_DELIM, "else")
            return n.ElseNode(tok.pos)
        if typ == T.END:
            self.expect(T.RIGHT_DELIM, "end")
            return n.EndNode(tok.pos)
        if typ == T.IF:
            return n.IfNode(*self.parse_control("if", tok))
        if typ == T.RANGE:
            return n.RangeNode(*self.parse_control("range", tok))
        if typ == T.WITH:
            return n.WithNode(*self.parse_control("with", tok))
        if typ == T.TEMPLATE:
            return self.template_control()
        self.backup()
        start = self.peek()
        return n.ActionNode(start.pos, self.pipeline("command", T.RIGHT_DELIM))

    def parse_control(self, context: str, tok: Item) -> tuple[int, n.PipeNode, n.ListNode, n.ListNode | None]:
        mark = len(self.vars)
        self.enter(tok)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        if context == "range":
            self.range_depth += 1
        body, nxt = self.item_list()
        if context == "range":
            self.range_depth -= 1
        else_body: n.ListNode | None = None
        if isinstance(nxt, n.ElseNode):
            if context == "if" and self.peek().typ == T.IF:
                t2 = self.next()
                else_body = n.ListNode(nxt.pos, [n.IfNode(*self.parse_control("if", t2))])
            elif context == "with" and self.peek().typ == T.WITH:
                t2 = self.next()
                else_body = n.ListNode(nxt.pos, [n.WithNode(*self.parse_control("with", t2))])
            else:
                else_body, end = self.item_list()
                if not isinstance(end, n.EndNode):
                    raise self.fail(self.items[self.i - 1], "expected end; found {{else}}")
        del self.vars[mark:]
        self.depth -= 1
        return tok.pos, pipe, body, else_body

    def block_control(self, tok: Item) -> n.Node:
        context = "block clause"
        name_tok = self.next_non_space()
        name = self.template_name(name_tok, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        saved = (self.vars, self.range_depth)
        self.vars, self.range_depth = ["$"], 0
        self.enter(tok)
        body, end = self.item_list()
        self.depth -= 1
        if not isinstance(end, n.EndNode):
            raise self.fail(tok, "unexpected {{else}} in block clause")
        self.vars, self.range_depth = saved
        self.add(name, body, name_tok)
        return n.TemplateNode(name_tok.pos, name, pipe)

    def template_control(self) -> n.Node:
        context = "template clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(tok.pos, name, pipe)

    def template_name(self, tok: Item, context: str) -> str:
        if tok.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(tok, context)
        return self.unquote(tok)

    def unquote(self, tok: Item) -> str:
        try:
            return sc.unquote(tok.val)
        except Fault:
            raise self.fail(tok, "bad string literal") from None

    # --- pipelines ----------------------------------------------------------------------

    def pipeline(self, context: str, end: T) -> n.PipeNode:
        pipe = n.PipeNode(self.peek_non_space().pos)
        while True:  # declarations: "$x :=", "$x =", "$i, $v :="
            v = self.peek_non_space()
            if v.typ != T.VARIABLE:
                break
            save = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ == T.ASSIGN
                self.next_non_space()
                # "$x = 1" with no $x in scope is an error only when executed, as in Go
                pipe.decl.append(v.val)
                self.vars.append(v.val)
            elif nxt.typ == T.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(v.val)
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RPAREN):
                        continue
                    raise self.fail(nxt, "range can only initialize variables")
                raise self.fail(nxt, f"too many declarations in {context}")
            else:
                self.i = save
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context, tok)
                return pipe
            if tok.typ in _TERM_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def check_pipeline(self, pipe: n.PipeNode, context: str, tok: Item) -> None:
        if not pipe.cmds:
            raise self.fail(tok, f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (n.BoolNode, n.DotNode, n.NilNode, n.NumberNode, n.StringNode)):
                raise self.fail(tok, f"non executable command in pipeline stage {i + 2}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T.SPACE:
                continue
            if tok.typ in (T.RIGHT_DELIM, T.RPAREN):
                self.backup()
            elif tok.typ != T.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.fail(self.peek(), "empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            fields: list[str] = []
            while self.peek().typ == T.FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(node.pos, node.ident + fields)
            if isinstance(node, n.VariableNode):
                return n.VariableNode(node.pos, node.ident + fields)
            if isinstance(node, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode, n.DotNode)):
                raise Fault("syntax", "unexpected . after term " + _quoted(_term_text(node)), node.pos)
            return n.ChainNode(node.pos, node, fields)
        return node

    def term(self) -> n.Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T.IDENT:
            spec = self.funcs.get(tok.val)
            if spec is None:
                reason = REFUSED.get(tok.val)
                if reason is not None:
                    raise Fault("not supported", tok.val, tok.pos, hint=reason)
                raise self.fail(tok, tok.val, "unknown function")
            return n.IdentifierNode(tok.pos, tok.val, spec)
        if typ == T.DOT:
            return n.DotNode(tok.pos)
        if typ == T.NIL:
            return n.NilNode(tok.pos)
        if typ == T.VARIABLE:
            if tok.val not in self.vars:
                raise self.fail(tok, tok.val, "undefined variable")
            return n.VariableNode(tok.pos, [tok.val])
        if typ == T.FIELD:
            return n.FieldNode(tok.pos, [tok.val[1:]])
        if typ == T.BOOL:
            return n.BoolNode(tok.pos, tok.val == "true")
        if typ in (T.CHAR_CONST, T.NUMBER):
            return self.number(tok)
        if typ == T.LPAREN:
            self.enter(tok)
            pipe = self.pipeline("parenthesized pipeline", T.RPAREN)
            self.depth -= 1
            return pipe
        if typ in (T.STRING, T.RAW_STRING):
            return n.StringNode(tok.pos, tok.val, self.unquote(tok))
        self.backup()
        return None

    def number(self, tok: Item) -> n.NumberNode:
        """Go's ``newNumber``: which of int64, uint64 and float64 the constant fits.

        A number that fits uint64 but not int64 parses, as in Go: only evaluating it where an
        int is wanted fails (``ideal`` is None), a uint32 or float64 argument takes it.
        """
        text = tok.val
        if tok.typ == T.CHAR_CONST:
            try:
                r = sc.unquote_char(text)
            except Fault:
                raise self.fail(tok, "bad character constant") from None
            return n.NumberNode(tok.pos, text, True, r, True, float(r), r, True, r)
        u, uerr = sc.parse_uint(text)
        i, ierr = sc.parse_int(text)
        node = n.NumberNode(tok.pos, text)
        if uerr is None:
            node.is_uint, node.uint_value = True, u
        if ierr is None:
            node.is_int, node.int_value = True, i
            node.is_float, node.float_value = True, float(i)
            if i == 0:
                node.is_uint, node.uint_value = True, 0  # -0
        elif uerr is None:
            node.is_float, node.float_value = True, float(u)
        else:
            f, ferr = sc.parse_float(text)
            if ferr is None and not math.isnan(f):
                if not any(c in text for c in ".eEpP"):
                    raise self.fail(tok, "integer overflow: " + _quoted(text))
                node.is_float, node.float_value = True, f
                if -(2.0**63) <= f < 2.0**63 and f == int(f):
                    node.is_int, node.int_value = True, int(f)
                if 0 <= f < 2.0**64 and f == int(f):
                    node.is_uint, node.uint_value = True, int(f)
        if not node.is_int and not node.is_float:
            raise self.fail(tok, "illegal number syntax: " + _quoted(text))
        hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
        if node.is_float and not hex_int and any(c in text for c in ".eEpP"):
            node.ideal = node.float_value
        elif node.is_int:
            node.ideal = node.int_value
        return node


def parse_source(name: str, src: str, funcs: Mapping[str, Any], max_depth: int) -> dict[str, n.ListNode]:
    return Parser(name, src, funcs, max_depth).parse()
