"""``laminar compile``: common options, the target's own options, output and ``--check``.

Each target adds its own options, so the parser is built once the target is known:
``laminar compile --target argo --help`` lists Argo's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from laminar.cli.parser import Parser
from laminar.errors import CompileError, LaminarError

EPILOG = """\
examples:
  laminar compile examples/grid.py --target argo --image ghcr.io/acme/flows:1.4 \\
      --datastore s3://bucket/laminar
  laminar compile examples/grid.py --target airflow -o dags/grid_flow.py
  laminar compile examples/grid.py --target github -o .github/workflows/grid.yml
  laminar compile examples/grid.py --target github -o .github/workflows/grid.yml --check

Each target has its own options: laminar compile --target TARGET --help
"""


def build_parser(target: str | None) -> argparse.ArgumentParser:
    from laminar.backends import TARGETS, dialect_class

    parser = Parser(
        prog="laminar compile",
        description="Compile a flow for an orchestrator.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("flow", metavar="FLOW", help="path/to/flow.py[:FlowName]")
    parser.add_argument(
        "--target", required=True, choices=sorted(TARGETS), help="the orchestrator to compile for"
    )
    parser.add_argument(
        "-o", "--output", default="-", metavar="FILE", help="where to write (default: - stdout)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if FILE differs from what would be generated (for CI)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on warnings (a setting the target cannot honour as declared)",
    )
    parser.add_argument("--image", help="container image with laminar and the flow installed")
    parser.add_argument("--datastore", metavar="URL", help="datastore URL the tasks use")
    parser.add_argument(
        "--flow-path",
        metavar="PATH",
        help="path of the flow file where tasks run (default: FLOW as given, relative)",
    )
    if target in TARGETS:
        cls = dialect_class(target)
        group = parser.add_argument_group(f"{target} options ({cls.description})")
        cls.add_arguments(group)
    return parser


def _target_of(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--target" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def compile_main(argv: list[str]) -> int:
    args = build_parser(_target_of(argv)).parse_args(argv)
    return compile_command(args, ["compile", *argv])


def flow_reference(
    flow_arg: str, flow_path: str | None, flow_name: str, base: str | None = None
) -> str:
    """The flow as tasks name it: FLOW's path (relative to ``base``, the folder tasks run in,
    when given; else as given, made relative), or ``flow_path``, with ``:FlowName``."""
    from laminar.model.loader import split_reference

    local, _ = split_reference(flow_arg)  # the file here, where the compiler reads it
    path = local
    if flow_path is None:
        if base is not None:
            with contextlib.suppress(ValueError):  # another drive on Windows
                path = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
        elif os.path.isabs(path):
            with contextlib.suppress(ValueError):
                path = os.path.relpath(path)
        path = path.replace(os.sep, "/")
        if path.startswith("./"):
            path = path[2:]
    else:
        path = flow_path
    if flow_name.isidentifier():
        return f"{path}:{flow_name}"
    # A class named by configuration (type(name, (Flow,), {})) cannot be selected by name:
    # the task loads the file's only flow.
    from laminar.model.loader import flows_in

    if len(flows_in(local)) > 1:
        raise CompileError(
            f"Flow {flow_name!r} is not named by a Python identifier, so tasks cannot select "
            f"it among the flows of {path}; give it an identifier name, or move it to a file "
            "of its own."
        )
    return path


def compile_command(args: argparse.Namespace, argv: list[str]) -> int:
    from laminar.backends import dialect_class
    from laminar.backends.lowering import CompileOptions
    from laminar.model.chains import chains_in
    from laminar.model.loader import load_flow, split_reference

    flow = load_flow(args.flow)
    ir = flow.ir()
    cls = dialect_class(args.target)
    shown = [a for a in argv if a != "--check"]
    target = cls.options_from(args)
    # Airflow's python operator runs tasks in the DAG file's folder: FLOW relative to it
    beside = getattr(target, "runs_beside_dag", False) and args.output != "-"
    base = (os.path.dirname(args.output) or ".") if beside else None
    options = CompileOptions(
        flow_ref=flow_reference(args.flow, args.flow_path, ir.name, base),
        datastore=args.datastore,
        image=args.image,
        command="laminar " + shlex.join(shown),
        target_options=target,
    )
    file, _ = split_reference(args.flow)
    chained = cls.unchained(ir.name, file, chains_in(file))  # a chain runs locally only
    text = generated(cls(options), ir, strict=args.strict, notes=chained)
    return write_output(text, args.output, args.check, options.command)


def generated(dialect: Any, ir: Any, *, strict: bool, notes: Sequence[str] = ()) -> str:
    """``dialect.generate(ir)``, its warnings printed (each names the layer, the setting and
    what to do instead) after ``notes`` (warnings found before generating); with ``strict``,
    refused."""
    import warnings

    from laminar.errors import CompileWarning
    from laminar.text import printable_lines

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CompileWarning)
        text: str = dialect.generate(ir)
    messages = [*notes]
    messages += [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
    for message in messages:
        print(f"laminar: warning: {printable_lines(message)}", file=sys.stderr)
    if strict and messages:
        raise CompileError(
            f"--strict: {len(messages)} warning(s) above; change the flow or the options, or "
            "compile without --strict."
        )
    return text


def write_output(text: str, output: str, check: bool, command: str) -> int:
    """Write the generated file to ``output`` (``-``: stdout), or with ``check`` compare.

    A write is atomic (a temporary file beside ``output``, then a rename), never replaces a
    directory or a Python module the compile just imported (the flow file itself: ``-o
    flow.py``), and leaves nothing behind when it fails.
    """
    from laminar.text import printable

    shown = printable(output)
    if output != "-":
        _check_output_path(output)
    if check:
        return _compare(text, output, command)
    if output == "-":
        sys.stdout.write(text)
        return 0
    _write_atomically(text, output)
    print(f"laminar: wrote {shown}", file=sys.stderr)
    return 0


def _compare(text: str, output: str, command: str) -> int:
    """``--check``: 0 when ``output`` holds ``text``, else 1 with the command that
    regenerates it."""
    from laminar.text import printable

    shown = printable(output)
    if output == "-":
        raise LaminarError("--check compares with a file: pass -o FILE.")
    try:
        with open(output, encoding="utf-8") as handle:
            current: str | None = handle.read()
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError) as error:
        raise LaminarError(f"--check cannot read -o {shown}: {_reason(error)}.") from None
    if current == text:
        print(f"laminar: {shown} is up to date", file=sys.stderr)
        return 0
    state = "missing" if current is None else "stale"
    print(f"laminar: {shown} is {state}; regenerate with: {printable(command)}", file=sys.stderr)
    return 1


def _write_atomically(text: str, output: str) -> None:
    """``text`` into ``output`` through a temporary file beside it and a rename: never a
    half-written workflow file, and no temporary file left when it fails."""
    import tempfile

    from laminar.text import printable

    shown = printable(output)
    directory = os.path.dirname(output) or "."
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise LaminarError(
            f"Cannot write -o {shown}: its directory cannot be made ({_reason(error)})."
        ) from None
    temporary: str | None = None
    try:
        handle_fd, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(output)}.", suffix=".laminar-tmp"
        )
        with os.fdopen(handle_fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, _mode_for(output))
        os.replace(temporary, output)  # never a half-written workflow file
        temporary = None
    except OSError as error:
        raise LaminarError(f"Cannot write -o {shown}: {_reason(error)}.") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _check_output_path(output: str) -> None:
    """Refuse an output that is a directory, or the source of a module loaded now (the flow
    file, or a module it imports): compiling must never overwrite the user's code."""
    from laminar.text import printable

    shown = printable(output)
    if output == "" or output.endswith(("/", os.sep)) or os.path.isdir(output):
        raise LaminarError(
            f"-o {shown} is a directory; name the file to write, such as "
            f"-o {printable(os.path.join(output or '.', 'workflow.yaml'))}."
        )
    try:
        target = os.stat(output)
    except OSError:
        return  # nothing there yet: nothing to overwrite
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not isinstance(source, str):
            continue
        try:
            same = os.path.samestat(os.stat(source), target)
        except OSError:
            continue
        if same:
            what = (
                "the flow file itself"
                if module.__name__.startswith("laminar_flow_")
                else f"the source of Python module {module.__name__}"
            )
            raise LaminarError(
                f"-o {shown} is {what}: compiling would overwrite your code. Write the "
                "generated file elsewhere, such as -o dags/flow_dag.py."
            )


def _mode_for(output: str) -> int:
    """The permissions of the file being replaced, else the umask's default for a new file
    (``mkstemp`` makes it owner-only, which an orchestrator's other user could not read)."""
    try:
        return os.stat(output).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
