"""The project's own functions (`[functions.NAME]`, bake's `function` blocks), callable
from every template.

```toml
[functions.image]
params = ["name", "tag"]
variadic = "rest"                  # optional: further arguments, as a list
result = "{{ REGISTRY ~ '/' ~ name ~ ':' ~ tag }}"
```

A function sees what a bake function sees: the variables, the other functions and its
parameters; not `target`, matrix values or `[project]` keys, so a call means the same in
every target. Its `result` is a template: one whole `{{ expression }}` gives its value (a
list, a table, none), other text is text. A call runs inside the rendering that made it,
on that rendering's budget of work (`template_limits.WORK`), and calls nest at most
`MAX_CALL_DEPTH` deep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.errors import Problem
from buildgraph.resolve.template_values import TemplateProblem, printable

if TYPE_CHECKING:
    from buildgraph.projectfile.document import Document

MAX_CALL_DEPTH = 64

# How a result is evaluated: `templates.template_value`, handed in by the caller (this
# module sits below the template engine, which calls it back).
Evaluate = Callable[[str, Mapping[str, Any]], Any]


class ProjectFunction:
    """One `[functions.NAME]`, bound to the scope it sees."""

    __slots__ = ("evaluate", "name", "params", "result", "scope", "variadic")

    def __init__(
        self, name: str, spec: Mapping[str, Any], scope: Mapping[str, Any], evaluate: Evaluate
    ) -> None:
        self.name = name
        self.params: tuple[str, ...] = tuple(spec.get("params", ()))
        self.variadic: str | None = spec.get("variadic")
        self.result: str = spec["result"]
        self.scope = scope
        self.evaluate = evaluate

    def __call__(self, *args: Any) -> Any:
        from buildgraph.resolve.template_limits import WORK  # loaded once a template runs

        if len(args) < len(self.params) or (self.variadic is None and len(args) > len(self.params)):
            raise TemplateProblem(
                f"function {self.name} takes {self._arity()}, given {len(args)}",
                hint=f"call it as {self.name}({', '.join(self.params)}"
                + (f", {self.variadic}..." if self.variadic else "")
                + ")",
            )
        local = dict(self.scope)
        local.update(zip(self.params, (printable(a) for a in args), strict=False))
        if self.variadic is not None:
            local[self.variadic] = [printable(a) for a in args[len(self.params) :]]
        if WORK.calls >= MAX_CALL_DEPTH:
            raise TemplateProblem(
                f"function {self.name}: calls nest more than {MAX_CALL_DEPTH} deep",
                hint="a function that calls itself needs a case that stops",
            )
        WORK.calls += 1
        try:
            return self.evaluate(self.result, local)
        except TemplateProblem as exc:
            if str(exc).startswith("function "):
                raise
            raise TemplateProblem(f"function {self.name}: {exc}", hint=exc.hint) from None
        finally:
            WORK.calls -= 1

    def _arity(self) -> str:
        count = len(self.params)
        words = f"{count} argument{'s' if count != 1 else ''}"
        return f"at least {words}" if self.variadic is not None else words

    def __repr__(self) -> str:
        return f"<function {self.name}>"


def bound_functions(
    declared: Mapping[str, Mapping[str, Any]], scope: Mapping[str, Any], evaluate: Evaluate
) -> dict[str, ProjectFunction]:
    """Each declared function, seeing `scope` (the variables) and every function, its
    result evaluated by `evaluate`."""
    seen: dict[str, Any] = dict(scope)
    functions = {
        name: ProjectFunction(name, spec, seen, evaluate) for name, spec in declared.items()
    }
    seen.update(functions)
    return functions


def function_problems(doc: Document) -> list[Problem]:
    """What is wrong with the declared functions before any is called: a name a variable
    has too, a parameter named twice, a result that is no template."""
    declared: Mapping[str, Mapping[str, Any]] = doc.data.get("functions", {})
    variables = doc.data.get("variables", {})
    problems = []

    def problem(name: str, message: str, hint: str) -> None:
        line = doc.line_of("functions", name)
        problems.append(Problem(message, file=doc.path, key=name, line=line, hint=hint))

    for name, spec in declared.items():
        if name in variables:
            problem(name, f"function {name} has the name of a variable", "rename one of them")
        params = [*spec.get("params", ()), *([spec["variadic"]] if "variadic" in spec else [])]
        if len(set(params)) != len(params):
            problem(name, f"function {name} names a parameter twice", "give each its own name")
        syntax = _syntax_problem(spec["result"])
        if syntax is not None:
            problem(name, f"function {name}'s result: {syntax}", "see Templates in the docs")
    return problems


def _syntax_problem(result: str) -> str | None:
    if "{" not in result:
        return None
    from jinja2 import TemplateSyntaxError

    from buildgraph.resolve.template_limits import BoundedEnvironment

    try:
        BoundedEnvironment().parse(result)
    except TemplateSyntaxError as exc:
        return f"template syntax error: {exc.message}"
    except Exception as exc:  # a parser's RecursionError on deep nesting, and the like
        return f"the template cannot be read: {type(exc).__name__}"
    return None
