"""The intermediate representation: a graph of frozen layer specs.

This is the one place where a flow's meaning is decided: which layers exist, what each
depends on, how each fans out, and its settings (``LayerSettings``, carried whole). Everything
downstream (the runtime, the local executor, every backend) reads this and decides nothing.

The graph is built, checked for cycles and ordered in plain Python, because every deployed
task builds the IR again and importing networkx cost it more than the rest of its start-up
(issue 15). ``FlowIR.graph`` still offers the ``networkx.DiGraph`` to whoever wants one
(compilers, ``laminar graph``), built on first use.

Its values (``LayerSpec``, ``FlowIR``) are in ``specs.py``; ``build_ir``, which decides
them from a Flow class, in ``build.py``.
"""

from laminar.ir.build import build_ir
from laminar.ir.specs import FlowIR, LayerSpec, ParameterSpec

__all__ = ["FlowIR", "LayerSpec", "ParameterSpec", "build_ir"]
