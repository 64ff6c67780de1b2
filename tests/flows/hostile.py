"""Names and values a hurried user or an attacker might give, which the DAG must keep inert.

The flow's class name comes from "configuration" and holds a newline followed by code; the
layers are named like Python keywords, soft keywords, builtins and command-line options; an
environment value holds quotes, braces and line breaks of every kind.
"""

from typing import Any

from laminar import Container, Flow, ForEach, Layer, Parameter

NAME = "Hostile\nimport os; os.system('touch /tmp/laminar-pwned') # \u2028\x85"
VALUE = 'it\'s "x" {{ run_id }} {% raw %} $HOME \n\r\u2028\x85\x7f${{ github.token }}'

HostileFlow: Any = type(NAME, (Flow,), {})


def _call(*upstream: str) -> Any:
    def __call__(self: Any, **layers: Any) -> None:
        import os

        self.env = os.environ.get("HOSTILE", "")
        self.seen = sorted(layers)

    # Annotated by name, as a user would write `def __call__(self, dict: "dict")`.
    __call__.__annotations__ = {f"u{i}": name for i, name in enumerate(upstream)}
    return _with_signature(__call__, len(upstream))


def _with_signature(function: Any, arity: int) -> Any:
    import inspect

    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [
        inspect.Parameter(f"u{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=function.__annotations__[f"u{i}"])
        for i in range(arity)
    ]  # fmt: skip
    function.__signature__ = inspect.Signature(parameters)
    return function


Option = HostileFlow.register(
    container=Container(env={"HOSTILE": VALUE}),
)(type("--help", (Layer,), {"__call__": _call()}))


class Items(Layer):
    def __call__(self) -> None:
        self.shard(n=[1, 2, 3])


HostileFlow.register(Items)
HostileFlow.register(type("dict", (Layer,), {"__call__": _call("--help")}))
HostileFlow.register(
    foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]),
)(type("\u00efif", (Layer,), {"__call__": _call("dict", "Items")}))
HostileFlow.register(type("match", (Layer,), {"__call__": _call("\u00efif")}))
HostileFlow.register(type("print", (Layer,), {"__call__": _call("match", "dict")}))
