"""Static discovery of the attributes a layer class sets, to check ``Parameter`` names early.

A ``Parameter(layer=Shard, attribute="fo")`` typo would otherwise only fail at run time,
possibly hours into a deployed workflow. We read the class's source once and collect
``self.NAME = ...`` and ``self.shard(NAME=...)``. When the class sets attributes in ways we
cannot see (``setattr``, ``self.shard(**kw)``, ``self.__dict__``) or has no source, we return
``None`` and leave the check to run time. When it may set them where we do not look (a mixin,
a helper function given ``self``, a method defined elsewhere), the result is not ``sure``: a
name missing from it is then only a warning, never an error that rejects a valid flow.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from dataclasses import dataclass
from typing import Any

from laminar.model.layer import Layer


@dataclass(frozen=True)
class Assigned:
    """The attribute names a layer class visibly sets, and whether that is all it can set."""

    names: frozenset[str]
    sure: bool


def assigned_attributes(cls: type[Layer]) -> Assigned | None:
    names: set[str] = set()
    methods: set[str] = set(dir(Layer))
    called: set[str] = set()
    sure = True
    for klass in cls.__mro__:
        if klass is Layer or klass is object:
            continue
        if not issubclass(klass, Layer):
            sure = False  # a mixin: its methods may set attributes
            continue
        found = _class_attributes(klass)
        if found is None:
            return None
        names |= found.names
        methods |= found.methods
        called |= found.called
        sure = sure and not found.passes_self
    return Assigned(frozenset(names), sure and called <= methods)


@dataclass(frozen=True)
class _Found:
    names: frozenset[str]
    #: Methods the class defines, and the ``self.NAME(...)`` methods it calls.
    methods: frozenset[str]
    called: frozenset[str]
    #: Whether ``self`` is handed to another function (which may set attributes on it).
    passes_self: bool


def _class_attributes(cls: type) -> _Found | None:
    call = cls.__dict__.get("__call__")
    call = inspect.unwrap(call) if call is not None else None
    code = getattr(call, "__code__", None)
    module = sys.modules.get(cls.__module__)
    filename = code.co_filename if code is not None else getattr(module, "__file__", None)
    if not filename:
        return None
    classes = _classes(filename)
    if classes is None:
        return None
    node = _find_class(classes.get(cls.__name__, []), code.co_firstlineno if code else None)
    if node is None:
        return None
    return _collect(node)


@functools.lru_cache(maxsize=64)
def _parse(filename: str) -> ast.Module | None:
    try:
        with open(filename, encoding="utf-8") as handle:
            return ast.parse(handle.read(), filename=filename)
    except (OSError, SyntaxError, ValueError):
        return None


@functools.lru_cache(maxsize=64)
def _classes(filename: str) -> dict[str, list[ast.ClassDef]] | None:
    """The file's class definitions by name: one walk per file, not one per layer."""
    tree = _parse(filename)
    if tree is None:
        return None
    index: dict[str, list[ast.ClassDef]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            index.setdefault(node.name, []).append(node)
    return index


def forget_sources() -> None:
    """Read flow files afresh from now on (one process running several flows' tasks)."""
    _parse.cache_clear()
    _classes.cache_clear()


def _find_class(candidates: list[ast.ClassDef], call_line: int | None) -> ast.ClassDef | None:
    if call_line is not None:
        for node in candidates:
            if node.lineno <= call_line <= (node.end_lineno or node.lineno):
                return node
    return candidates[0] if len(candidates) == 1 else None


def _collect(node: ast.ClassDef) -> _Found | None:
    names: set[str] = set()
    called: set[str] = set()
    passes_self = False
    methods = {
        child.name
        for child in node.body
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Store):
            if _is_self(child.value):
                names.add(child.attr)
        elif isinstance(child, ast.Call):
            func = child.func
            if isinstance(func, ast.Name) and func.id in {"setattr", "vars"}:
                return None
            if isinstance(func, ast.Attribute) and func.attr == "shard" and _is_self(func.value):
                for keyword in child.keywords:
                    if keyword.arg is None:
                        return None
                    names.add(keyword.arg)
            elif isinstance(func, ast.Attribute) and _is_self(func.value):
                called.add(func.attr)
            arguments = [*child.args, *(k.value for k in child.keywords)]
            passes_self = passes_self or any(_is_self(a) for a in arguments)
        elif isinstance(child, ast.Attribute) and child.attr == "__dict__":
            return None
    return _Found(frozenset(names), frozenset(methods), frozenset(called), passes_self)


def _is_self(node: Any) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"
