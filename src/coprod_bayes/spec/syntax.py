"""The lavaan model syntax, parsed into a table of parameters (lavaan's "partable").

Supported, as in lavaan (Rosseel 2012, "The model syntax"):

- ``f =~ x1 + x2 + x3``    latent ``f`` measured by indicators (the first loading is fixed
  to 1 in lavaan's default; the engines here fix the factor variance instead, so all
  loadings are free unless fixed with a number)
- ``y ~ f + x``            regression; ``y ~ 1`` an intercept
- ``f1 ~~ f2``             covariance of latent variables, or the residual covariance of two
  indicators; ``x ~~ x`` a (residual) variance
- ``ind := a*b``           a defined parameter: arithmetic (``+ - * / **``, parentheses,
  numbers) on labels
- ``a == b``               an equality constraint between labelled parameters
- modifiers before a right-hand variable: a label (``a*x``: named; the same label twice
  makes the parameters equal), a number (``0.5*x``: fixed), ``NA`` (``NA*x``: free)

Comments start with ``#`` or ``!``. Statements end at a newline or ``;``. A formula may go
on over several lines: a line that ends in ``+`` or ``*``, or one that starts with ``+`` or
holds no operator, continues the statement before it.

Errors (:class:`ModelSyntaxError`) name the line, show it, and point at the token.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..errors import SpecError

__all__ = ["ModelSyntaxError", "Parameter", "Definition", "ModelSyntax", "parse_model"]

#: Operators, longest first so that "=~" is not read as "=" and "~".
_OPERATORS = (":=", "=~", "~~", "==", "~")
_NAME = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


class ModelSyntaxError(SpecError):
    """A model-syntax error: the message names the line, shows it, and marks the token."""

    def __init__(self, message: str, line_no: int, line: str, start: int = 0, length: int = 1):
        self.line_no, self.line, self.start = line_no, line, start
        marker = " " * (start + 4) + "^" * max(length, 1)
        super().__init__(f"model syntax, line {line_no}: {message}\n    {line}\n{marker}")


@dataclass(frozen=True)
class Parameter:
    """One row of the parameter table.

    ``op`` is ``=~`` (loading), ``~`` (regression; ``rhs = "1"`` an intercept) or ``~~``
    (variance or covariance). ``label`` names it (equal labels: equal parameters); ``fixed``
    is its fixed value, or None when free. ``line`` is where it was written.
    """

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    fixed: float | None = None
    line: int = 0

    @property
    def name(self) -> str:
        """lavaan's name of the parameter: ``f=~x1``, ``y~x``, ``f1~~f2``."""
        return f"{self.lhs}{self.op}{self.rhs}"


@dataclass(frozen=True)
class Definition:
    """A defined parameter ``name := expression`` over labels."""

    name: str
    expression: str
    labels: tuple[str, ...]
    line: int = 0

    def evaluate(self, values: dict):
        """The expression with each label replaced by ``values[label]`` (numbers or arrays
        of draws, so that a posterior of the defined parameter comes out)."""
        return _eval(ast.parse(self.expression, mode="eval").body, values)


@dataclass(frozen=True)
class ModelSyntax:
    """A parsed model: parameters, defined parameters and equality constraints."""

    parameters: tuple[Parameter, ...]
    definitions: tuple[Definition, ...] = ()
    constraints: tuple[tuple[str, str], ...] = ()
    source: str = field(default="", compare=False)

    @property
    def latent(self) -> list[str]:
        """Latent variables, in the order their ``=~`` first appears."""
        return list(dict.fromkeys(p.lhs for p in self.parameters if p.op == "=~"))

    def indicators(self, latent: str) -> list[str]:
        """The indicators of one latent variable, in order."""
        return [p.rhs for p in self.parameters if p.op == "=~" and p.lhs == latent]

    @property
    def observed(self) -> list[str]:
        """Every variable that is not latent (indicators, observed regressors and outcomes)."""
        lat = set(self.latent)
        names = []
        for p in self.parameters:
            names += [v for v in (p.lhs, p.rhs) if v not in lat and v != "1"]
        return list(dict.fromkeys(names))

    @property
    def regressions(self) -> list[Parameter]:
        return [p for p in self.parameters if p.op == "~" and p.rhs != "1"]

    @property
    def covariances(self) -> list[Parameter]:
        return [p for p in self.parameters if p.op == "~~"]

    @property
    def labels(self) -> dict[str, list[Parameter]]:
        """Each label and the parameters that carry it (more than one: held equal)."""
        out: dict[str, list[Parameter]] = {}
        for p in self.parameters:
            if p.label:
                out.setdefault(p.label, []).append(p)
        return out


def parse_model(text: str) -> ModelSyntax:
    """Parse lavaan model syntax.

    Raises
    ------
    ModelSyntaxError
        With the line, the line's text and a marker under the offending token.

    Examples
    --------
    >>> m = parse_model('''
    ...   visual  =~ x1 + x2 + x3
    ...   textual =~ x4 + x5 + x6
    ...   textual ~ a*visual
    ... ''')
    >>> m.latent, m.indicators("visual")
    (['visual', 'textual'], ['x1', 'x2', 'x3'])
    >>> m.regressions[0].label
    'a'
    """
    params: list[Parameter] = []
    definitions: list[Definition] = []
    constraints: list[tuple[str, str]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line_no, stmt, raw in _statements(text):
        op, pos = _find_operator(stmt)
        if op is None:
            raise ModelSyntaxError("no operator (=~, ~, ~~, :=, ==) in this statement",
                                   line_no, raw, 0, len(raw))
        lhs, rhs = stmt[:pos].strip(), stmt[pos + len(op):].strip()
        col = raw.find(stmt[:pos].strip()) if lhs else raw.find(op)
        if not lhs:
            raise ModelSyntaxError(f"nothing on the left of {op!r}", line_no, raw, max(col, 0),
                                   len(op))
        if not rhs:
            raise ModelSyntaxError(f"nothing on the right of {op!r}", line_no, raw,
                                   raw.find(op), len(op))
        if op == ":=":
            definitions.append(_definition(lhs, rhs, line_no, raw))
            continue
        if op == "==":
            for side in (lhs, rhs):
                if not _NAME.match(side):
                    raise ModelSyntaxError(f"an equality constraint relates two labels; "
                                           f"{side!r} is not a label", line_no, raw,
                                           raw.find(side), len(side))
            constraints.append((lhs, rhs))
            continue
        lhs_names = [v.strip() for v in lhs.split("+")]
        for name in lhs_names:
            _check_name(name, line_no, raw)
        for name in lhs_names:
            for term in _split_terms(rhs, line_no, raw):
                label, fixed, var = _modifier(term, line_no, raw)
                if var == "1" and op != "~":
                    raise ModelSyntaxError(f"'1' (an intercept) only goes on the right of '~', "
                                           f"not {op!r}", line_no, raw, raw.find(term), len(term))
                if op == "=~" and var == name:
                    raise ModelSyntaxError(f"{name!r} cannot be measured by itself", line_no,
                                           raw, raw.find(term), len(term))
                key = (name, op, var)
                if op == "~~" and (var, op, name) in seen:
                    key = (var, op, name)
                if key in seen:
                    raise ModelSyntaxError(f"{name} {op} {var} was already given on line "
                                           f"{seen[key]}", line_no, raw, raw.find(term), len(term))
                seen[key] = line_no
                params.append(Parameter(name, op, var, label, fixed, line_no))
    model = ModelSyntax(tuple(params), tuple(definitions), tuple(constraints), text)
    _check_labels(model)
    return model


def _statements(text: str):
    """(line number, statement, the line's text) with comments removed and continued
    formulas joined."""
    out: list[list] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0].rstrip()
        for part in line.split(";"):
            s = part.strip()
            if not s:
                continue
            continues = bool(out) and (
                out[-1][1].endswith(("+", "*")) or s.startswith("+")
                or _find_operator(s)[0] is None)
            if continues:
                out[-1][1] = f"{out[-1][1]} {s}"
                out[-1][2] = f"{out[-1][2].rstrip()} {s}"
            else:
                out.append([line_no, s, raw.strip()])
    return [tuple(o) for o in out]


def _find_operator(stmt: str) -> tuple[str | None, int]:
    """The statement's operator and its position (the leftmost; longest at a tie)."""
    best: tuple[str | None, int] = (None, len(stmt) + 1)
    for op in _OPERATORS:
        i = stmt.find(op)
        if i >= 0 and i < best[1]:
            best = (op, i)
    return best if best[0] else (None, -1)


def _split_terms(rhs: str, line_no: int, raw: str) -> list[str]:
    terms = [t.strip() for t in rhs.split("+")]
    for t in terms:
        if not t:
            raise ModelSyntaxError("an empty term: two '+' in a row, or a '+' at the end",
                                   line_no, raw, raw.rfind("+"), 1)
    return terms


def _check_name(name: str, line_no: int, raw: str) -> None:
    if not _NAME.match(name):
        raise ModelSyntaxError(f"{name!r} is not a variable name (letters, digits, '_' and "
                               "'.', not starting with a digit)", line_no, raw,
                               max(raw.find(name), 0), len(name))


def _modifier(term: str, line_no: int, raw: str) -> tuple[str | None, float | None, str]:
    """``label*var``, ``0.5*var``, ``NA*var`` or ``var``: (label, fixed value, variable)."""
    parts = [p.strip() for p in term.split("*")]
    if len(parts) > 2:
        raise ModelSyntaxError(f"one modifier per term, got {term!r}", line_no, raw,
                               raw.find(term), len(term))
    var = parts[-1]
    if var == "1" and len(parts) == 1:
        return None, None, "1"
    _check_name(var, line_no, raw)
    if len(parts) == 1:
        return None, None, var
    mod = parts[0]
    if mod == "NA":
        return None, None, var
    if _NUMBER.match(mod):
        return None, float(mod), var
    if re.match(r"\w+\s*\(", mod):
        raise ModelSyntaxError(f"the modifier {mod!r} (start(), equal(), c() ...) is not "
                               "supported; use a label, a number or NA", line_no, raw,
                               raw.find(mod), len(mod))
    _check_name(mod, line_no, raw)
    return mod, None, var


def _definition(name: str, expr: str, line_no: int, raw: str) -> Definition:
    _check_name(name, line_no, raw)
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise ModelSyntaxError(f"cannot read the expression {expr!r}", line_no, raw,
                               raw.find(expr), len(expr)) from None
    labels = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            labels.append(node.id)
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub,
                                   ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Load)):
            token = ast.get_source_segment(expr, node) or expr
            raise ModelSyntaxError(f"only + - * / ** on labels and numbers are allowed in a "
                                   f"defined parameter, not {token!r}", line_no, raw,
                                   raw.find(token), len(token))
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ModelSyntaxError(f"{node.value!r} is not a number", line_no, raw,
                                   raw.find(expr), len(expr))
    return Definition(name, expr, tuple(dict.fromkeys(labels)), line_no)


def _check_labels(model: ModelSyntax) -> None:
    """Defined parameters and constraints use only known labels (or earlier definitions);
    a label is not also a variable's name."""
    known = set(model.labels)
    variables = set(model.latent) | set(model.observed)
    for label, ps in model.labels.items():
        if label in variables:
            p = ps[0]
            raise ModelSyntaxError(f"the label {label!r} is also a variable's name", p.line,
                                   _line(model.source, p.line), 0, len(label))
    for d in model.definitions:
        unknown = [lab for lab in d.labels if lab not in known]
        if unknown:
            line = _line(model.source, d.line)
            raise ModelSyntaxError(f"{d.name} := uses unknown label(s) {unknown}; labels are "
                                   f"{sorted(model.labels)}", d.line, line,
                                   max(line.find(unknown[0], line.find(":=")), 0), len(unknown[0]))
        known.add(d.name)
    for a, b in model.constraints:
        for lab in (a, b):
            if lab not in known:
                raise SpecError(f"model syntax: the constraint {a} == {b} uses the unknown "
                                f"label {lab!r}; labels are {sorted(model.labels)}")


def _line(text: str, line_no: int) -> str:
    lines = text.splitlines()
    return lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""


def _eval(node, values):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    a, b = _eval(node.left, values), _eval(node.right, values)
    op = type(node.op)
    return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
            ast.Div: lambda: a / b, ast.Pow: lambda: a**b}[op]()
