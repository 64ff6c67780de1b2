"""The user's model: ``Flow``, ``Layer``, and loading a flow file without running it.

This is the bottom of laminar's dependency graph: it imports nothing from the IR, the store,
the runtime, the backends or the CLI at module level.
"""
