"""The parse tree (``parse/node.go``): plain slotted records, positions as source offsets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secretsync.gotemplate.gostrconv import GO_SPACES


@dataclass(slots=True, eq=False)
class Node:
    pos: int


@dataclass(slots=True, eq=False)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class TextNode(Node):
    text: str = ""


@dataclass(slots=True, eq=False)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class PipeNode(Node):
    decl: list[str] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ActionNode(Node):
    pipe: PipeNode | None = None


@dataclass(slots=True, eq=False)
class IdentifierNode(Node):
    name: str = ""
    spec: Any = None  # the FuncSpec, resolved at parse time


@dataclass(slots=True, eq=False)
class VariableNode(Node):
    ident: list[str] = field(default_factory=list)  # ["$x", "field", ...]


@dataclass(slots=True, eq=False)
class FieldNode(Node):
    ident: list[str] = field(default_factory=list)  # ".a.b" -> ["a", "b"]


@dataclass(slots=True, eq=False)
class ChainNode(Node):
    node: Node | None = None
    fields: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class DotNode(Node):
    pass


@dataclass(slots=True, eq=False)
class NilNode(Node):
    pass


@dataclass(slots=True, eq=False)
class BoolNode(Node):
    value: bool = False


@dataclass(slots=True, eq=False)
class NumberNode(Node):
    text: str = ""
    is_int: bool = False
    int_value: int = 0
    is_float: bool = False
    float_value: float = 0.0
    ideal: Any = None  # the constant as an untyped operand: int or float; None: a uint past int64
    is_uint: bool = False
    uint_value: int = 0


@dataclass(slots=True, eq=False)
class StringNode(Node):
    quoted: str = ""
    value: str = ""


@dataclass(slots=True, eq=False)
class BranchNode(Node):
    pipe: PipeNode | None = None
    body: ListNode | None = None
    else_body: ListNode | None = None


@dataclass(slots=True, eq=False)
class IfNode(BranchNode):
    pass


@dataclass(slots=True, eq=False)
class WithNode(BranchNode):
    pass


@dataclass(slots=True, eq=False)
class RangeNode(BranchNode):
    pass


@dataclass(slots=True, eq=False)
class TemplateNode(Node):
    name: str = ""
    pipe: PipeNode | None = None


@dataclass(slots=True, eq=False)
class BreakNode(Node):
    pass


@dataclass(slots=True, eq=False)
class ContinueNode(Node):
    pass


@dataclass(slots=True, eq=False)
class EndNode(Node):
    pass


@dataclass(slots=True, eq=False)
class ElseNode(Node):
    pass


def source_text(n: Node) -> str:
    """The node as written (for error details): names, fields, variables, literals."""
    if isinstance(n, IdentifierNode):
        return n.name
    if isinstance(n, FieldNode):
        return "." + ".".join(n.ident)
    if isinstance(n, VariableNode):
        return ".".join(n.ident)
    if isinstance(n, ChainNode):
        return "(...)." + ".".join(n.fields)
    if isinstance(n, DotNode):
        return "."
    if isinstance(n, NilNode):
        return "nil"
    if isinstance(n, BoolNode):
        return "true" if n.value else "false"
    if isinstance(n, NumberNode):
        return n.text
    if isinstance(n, StringNode):
        return n.quoted
    if isinstance(n, PipeNode):
        return "(...)"
    return ""


def is_empty_tree(n: Node) -> bool:
    """Go's ``IsEmptyTree``: only blank text (a define may replace it; comments are not kept)."""
    if isinstance(n, ListNode):
        return all(is_empty_tree(x) for x in n.nodes)
    if isinstance(n, TextNode):
        return n.text.strip(GO_SPACES) == ""  # bytes.TrimSpace: Unicode white space too
    return False
