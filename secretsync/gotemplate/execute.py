"""The bounded interpreter: walks a parse tree the way ``text/template/exec.go`` does.

Why bounded: every node, loop iteration and call charges the shared :class:`Budget`;
nesting (bodies, parentheses, template calls) is counted against ``max_depth`` so
Python recursion stays shallow; output is measured in UTF-8 bytes as it is written.
Fields are map lookups only: ``.Foo`` on anything but a map is a type error, and
there are no methods, so no Python attribute is ever read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secretsync.gotemplate import nodes as n
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import NILABLE, FuncSpec
from secretsync.gotemplate.gostrconv import byte_len, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.printf import action_text
from secretsync.gotemplate.values import GoStruct, StrMap, Value, import_data, truth

MISSING: Any = object()  # "no final argument" (Go's missingVal)
_BREAK = 1
_CONTINUE = 2
MISSING_KEY_MODES = {"default": 0, "invalid": 0, "zero": 1, "error": 2}


def _sorted_keys(m: dict[str, Value]) -> list[str]:
    if all(k.isascii() for k in m):
        return sorted(m)
    return sorted(m, key=to_bytes)


class Exec:
    """The state of one template execution (Go's ``state``)."""

    def __init__(self, trees: dict[str, n.ListNode], budget: Budget, missing_key: int) -> None:
        limits = budget.limits
        self.trees = trees
        self.budget = budget
        self.mk = missing_key
        self.vars: list[list[Any]] = []
        self.out: list[str] = []
        self.out_bytes = 0
        self.max_out = limits.max_output_bytes
        self.max_depth = limits.max_depth
        self.max_range = limits.max_range_iterations
        self.depth = 0
        self.node: n.Node | None = None

    def run(self, root: n.ListNode, data: Value) -> str:
        self.vars = [["$", data]]
        self.walk_list(data, root)
        return "".join(self.out)

    def write(self, s: str) -> None:
        self.out_bytes += byte_len(s)
        if self.out_bytes > self.max_out:
            raise Fault("output limit")
        self.out.append(s)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise Fault("depth limit")

    # --- statements ---------------------------------------------------------------------

    def walk_list(self, dot: Value, lst: n.ListNode) -> int:
        step = self.budget.step
        for node in lst.nodes:
            step()
            self.node = node
            t = type(node)
            if t is n.TextNode:
                self.write(node.text)  # type: ignore[attr-defined]
            elif t is n.ActionNode:
                pipe = node.pipe  # type: ignore[attr-defined]
                val = self.eval_pipeline(dot, pipe)
                if not pipe.decl:
                    self.node = node
                    self.write(action_text(self.budget, val))
            elif t is n.IfNode or t is n.WithNode:
                r = self.walk_if(dot, node)  # type: ignore[arg-type]
                if r:
                    return r
            elif t is n.RangeNode:
                self.walk_range(dot, node)  # type: ignore[arg-type]
            elif t is n.TemplateNode:
                self.walk_template(dot, node)  # type: ignore[arg-type]
            elif t is n.BreakNode:
                return _BREAK
            elif t is n.ContinueNode:
                return _CONTINUE
        return 0

    def walk_if(self, dot: Value, node: n.BranchNode) -> int:
        mark = len(self.vars)
        self.enter()
        assert node.pipe is not None and node.body is not None
        val = self.eval_pipeline(dot, node.pipe)
        r = 0
        if truth(val):
            r = self.walk_list(val if type(node) is n.WithNode else dot, node.body)
        elif node.else_body is not None:
            r = self.walk_list(dot, node.else_body)
        del self.vars[mark:]
        self.depth -= 1
        return r

    def walk_range(self, dot: Value, node: n.BranchNode) -> None:
        mark = len(self.vars)
        self.enter()
        assert node.pipe is not None and node.body is not None
        pipe = node.pipe
        val = self.eval_pipeline(dot, pipe)
        self.node = node
        decl = pipe.decl
        pairs: Any
        if isinstance(val, int) and not isinstance(val, bool):
            if len(decl) > 1:
                raise Fault("wrong type", "range")
            count = max(val, 0)
            self._check_range(count)
            pairs = ((None, i) for i in range(count))
        elif isinstance(val, list):
            self._check_range(len(val))
            pairs = enumerate(list(val))
        elif isinstance(val, dict) and not isinstance(val, GoStruct):
            self._check_range(len(val))
            self.budget.step(len(val))
            snapshot = dict(val)
            pairs = ((k, snapshot[k]) for k in _sorted_keys(snapshot))
        elif val is None:
            pairs = ()
        else:
            raise Fault("wrong type", "range")
        inner = len(self.vars)
        ran = False
        step = self.budget.step
        for idx, elem in pairs:
            ran = True
            step()
            if decl:
                if pipe.is_assign:
                    self.set_var(decl[0], idx if len(decl) > 1 else elem)
                    if len(decl) > 1:
                        self.set_var(decl[1], elem)
                else:
                    self.vars[inner - 1][1] = elem
                    if len(decl) > 1:
                        self.vars[inner - 2][1] = idx
            r = self.walk_list(elem, node.body)
            del self.vars[inner:]
            if r == _BREAK:
                break
        if not ran and node.else_body is not None:
            self.walk_list(dot, node.else_body)
        del self.vars[mark:]
        self.depth -= 1

    def _check_range(self, count: int) -> None:
        if count > self.max_range:
            raise Fault("range limit", "range")

    def walk_template(self, dot: Value, node: n.TemplateNode) -> None:
        tree = self.trees.get(node.name)
        if tree is None:
            raise Fault("unknown template", node.name)
        self.enter()
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        saved = self.vars
        self.vars = [["$", new_dot]]
        self.walk_list(new_dot, tree)
        self.vars = saved
        self.depth -= 1

    # --- variables ----------------------------------------------------------------------

    def var_value(self, name: str) -> Value:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise Fault("undefined variable", name)

    def set_var(self, name: str, value: Value) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i][1] = value
                return
        raise Fault("undefined variable", name)

    # --- pipelines and commands ---------------------------------------------------------

    def eval_pipeline(self, dot: Value, pipe: n.PipeNode) -> Value:
        value = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.vars.append([name, value])
        return value

    def not_a_function(self, args: list[n.Node] | None, final: Value) -> None:
        if (args is not None and len(args) > 1) or final is not MISSING:
            raise Fault("not a function", n.source_text(args[0]) if args else None)

    def eval_command(self, dot: Value, cmd: n.CommandNode, final: Value) -> Value:
        self.budget.step()
        first = cmd.args[0]
        self.node = first
        t = type(first)
        if t is n.FieldNode:
            return self.eval_field_chain(dot, first.ident, cmd.args, final)  # type: ignore[attr-defined]
        if t is n.IdentifierNode:
            return self.eval_call(dot, first, cmd.args[1:], final)  # type: ignore[arg-type]
        if t is n.VariableNode:
            return self.eval_variable(first, cmd.args, final)  # type: ignore[arg-type]
        if t is n.ChainNode:
            return self.eval_chain(dot, first, cmd.args, final)  # type: ignore[arg-type]
        self.not_a_function(cmd.args, final)
        if t is n.PipeNode:
            self.enter()
            v = self.eval_pipeline(dot, first)  # type: ignore[arg-type]
            self.depth -= 1
            return v
        if t is n.StringNode:
            return first.value  # type: ignore[attr-defined]
        if t is n.DotNode:
            return dot
        if t is n.NumberNode:
            return _ideal(first)  # type: ignore[arg-type]
        if t is n.BoolNode:
            return first.value  # type: ignore[attr-defined]
        raise Fault("wrong type", "nil")

    def eval_chain(self, dot: Value, chain: n.ChainNode, args: list[n.Node] | None, final: Value) -> Value:
        assert chain.node is not None  # never nil: the parser refuses ".Field" after a literal
        receiver = self.eval_arg(dot, "any", chain.node, "")
        self.node = chain
        return self.eval_field_chain(receiver, chain.fields, args, final)

    def eval_variable(self, node: n.VariableNode, args: list[n.Node] | None, final: Value) -> Value:
        value = self.var_value(node.ident[0])
        if len(node.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(value, node.ident[1:], args, final)

    def eval_field_chain(
        self, receiver: Value, ident: list[str], args: list[n.Node] | None, final: Value
    ) -> Value:
        for i, name in enumerate(ident[:-1]):
            nil_interface = isinstance(receiver, dict) and (
                receiver[name] is None
                if name in receiver
                else self.mk == 1 and not isinstance(receiver, (GoStruct, StrMap))
            )
            receiver = self.eval_field(name, None, MISSING, receiver)
            if nil_interface:
                # Go: a nil stored in a map[string]interface{}, or the zero value missingkey=zero
                # gives for a missing key, is a nil interface, not a missing value; a field of it
                # is "nil pointer evaluating interface {}.x".
                raise Fault("wrong type", ident[i + 1])
        return self.eval_field(ident[-1], args, final, receiver)

    def eval_field(self, name: str, args: list[n.Node] | None, final: Value, receiver: Value) -> Value:
        if receiver is None:
            if self.mk == 2:
                raise Fault("missing key", name)
            return None
        if isinstance(receiver, GoStruct):
            # a struct's field or niladic method: never the missing-key option
            if name not in receiver:
                raise Fault("wrong type", name)
            if (args is not None and len(args) > 1) or final is not MISSING:
                raise Fault("wrong number of args", name)
            return receiver[name]
        if isinstance(receiver, dict):
            if (args is not None and len(args) > 1) or final is not MISSING:
                raise Fault("not a function", name)
            try:
                return receiver[name]
            except KeyError:
                if self.mk == 2:
                    raise Fault("missing key", name) from None
                if self.mk == 1 and isinstance(receiver, StrMap):
                    return ""
                return None
        raise Fault("wrong type", name)

    # --- calls and arguments ------------------------------------------------------------

    def eval_call(self, dot: Value, node: n.IdentifierNode, args: list[n.Node], final: Value) -> Value:
        spec: FuncSpec = node.spec
        name = node.name
        params = spec.params
        n_in = len(args) + (final is not MISSING)
        if spec.variadic:
            if n_in < len(params) - 1:
                raise Fault("wrong number of args", name)
        elif n_in != len(params):
            raise Fault("wrong number of args", name)
        last = len(params) - 1
        if spec.fn is _AND_OR.get(name):
            v: Value = None
            for a in args:
                v = self.eval_arg(dot, "any", a, name)
                if truth(v) == (name == "or"):
                    return v
            if final is not MISSING:
                v = final
            return v
        argv = []
        for i, a in enumerate(args):
            argv.append(self.eval_arg(dot, params[min(i, last)], a, name))
        if final is not MISSING:
            argv.append(self.validate(final, params[min(len(args), last)], name))
        self.node = node
        budget = self.budget
        budget.step()
        try:
            result = spec.call(budget, argv)
            if spec.raw:
                result = import_data(result, self.max_depth)
            if isinstance(result, str):
                budget.account(len(result))
            elif isinstance(result, (list, dict)):
                budget.account(8 + 8 * len(result))
        except Fault as f:
            if f.detail is None:
                f.detail = name
            raise
        except RecursionError:
            raise Fault("depth limit", name) from None
        except (MemoryError, OverflowError):
            raise Fault("value limit", name) from None
        except Exception:
            raise Fault("function failed", name) from None
        return result

    def eval_arg(self, dot: Value, typ: str, node: n.Node, fname: str) -> Value:
        self.node = node
        t = type(node)
        if t is n.DotNode:
            return self.validate(dot, typ, fname)
        if t is n.FieldNode:
            v = self.eval_field_chain(dot, node.ident, [node], MISSING)  # type: ignore[attr-defined]
        elif t is n.VariableNode:
            v = self.eval_variable(node, None, MISSING)  # type: ignore[arg-type]
        elif t is n.PipeNode:
            self.enter()
            v = self.eval_pipeline(dot, node)  # type: ignore[arg-type]
            self.depth -= 1
        elif t is n.IdentifierNode:
            v = self.eval_call(dot, node, [], MISSING)  # type: ignore[arg-type]
        elif t is n.ChainNode:
            v = self.eval_chain(dot, node, None, MISSING)  # type: ignore[arg-type]
        else:
            return self.literal(typ, node, fname)
        self.node = node
        return self.validate(v, typ, fname)

    def literal(self, typ: str, node: n.Node, fname: str) -> Value:
        if isinstance(node, n.NilNode):
            if typ in NILABLE:
                return None
        elif isinstance(node, n.BoolNode):
            if typ in ("any", "bool"):
                return node.value
        elif isinstance(node, n.StringNode):
            if typ in ("any", "str", "lstr"):
                return node.value
        elif isinstance(node, n.NumberNode):
            if typ == "any":
                return _ideal(node)
            if typ == "int" and node.is_int:
                return node.int_value
            if typ == "float" and node.is_float:
                return node.float_value
            if typ == "u32" and node.is_uint:
                return node.uint_value & 0xFFFFFFFF  # Go's reflect SetUint truncates
        raise Fault("wrong type", fname or None)

    def validate(self, v: Value, typ: str, fname: str) -> Value:
        if typ == "any":
            return v
        if v is None:
            if typ in NILABLE:
                return None
        elif _TYPE_CHECKS[typ](v):
            return v
        raise Fault("wrong type", fname or None)


def _ideal(node: n.NumberNode) -> Value:
    """Go's ``idealConstant``: a constant that fits uint64 but not int64 fails here, not at parse."""
    if node.ideal is None:
        raise Fault("wrong type", f"{node.text} overflows int")
    return node.ideal


def _is_int(v: Value) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_time(v: Value) -> bool:
    from secretsync.gotemplate.values import GoTime

    return isinstance(v, GoTime)


_TYPE_CHECKS: dict[str, Callable[[Value], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "float": lambda v: isinstance(v, float),
    "bool": lambda v: isinstance(v, bool),
    "map": lambda v: isinstance(v, dict) and not isinstance(v, GoStruct),
    "time": _is_time,
    # a named string type (Sprig's HashAlgorithm) or a uint32: Go converts only a constant
    # written in the template; a computed string or int is "wrong type for value"
    "lstr": lambda v: False,
    "u32": lambda v: False,
}

_AND_OR: dict[str, Any] = {}


def register_and_or(and_fn: Any, or_fn: Any) -> None:
    """The builtin ``and``/``or`` short-circuit; a caller's function of that name does not."""
    _AND_OR["and"] = and_fn
    _AND_OR["or"] = or_fn
