"""Arguments checked before any command parses them: text that is not UTF-8, credentials in
a datastore URL, execution ids no orchestrator can carry. Each error names the option."""

from __future__ import annotations

from laminar.contract import check_datastore_url, check_execution_id
from laminar.errors import LaminarError
from laminar.text import describe_bytes, invalid_utf8

#: Options whose values are checked before any command runs: a datastore URL must hold no
#: credentials, and an execution id must be one a datastore and an orchestrator can carry.
_CHECKED = {
    "--datastore": check_datastore_url,
    "--s3-endpoint": check_datastore_url,  # laminar compile --target argo
    "--execution": check_execution_id,
}


def check_arguments(arguments: list[str]) -> None:
    """Refuse arguments no command can use, naming the option, before argparse sees them.

    Bytes that are not UTF-8 arrive as lone surrogates, which would fail much later (writing
    a manifest or a generated file) with a traceback. ``--datastore`` and ``--execution`` are
    checked here for every command, ``compile`` included, so a secret in a URL is refused
    before anything can print it.
    """
    for index, argument in enumerate(arguments):
        option, value = _option_and_value(arguments, index)
        if invalid_utf8(argument):
            raise LaminarError(
                f"{option} {describe_bytes(argument if value is None else value)} is not "
                "valid UTF-8 text; pass it as UTF-8."
            )
        name = _long_option(option)
        if name is not None and value is not None:
            _CHECKED[name](value, name)


#: Options that take no value, so the argument after one is not its value.
_FLAGS = frozenset(
    {"-h", "--help", "--version", "-q", "--quiet", "--retry", "--check", "--catchup"}
)


def _option_and_value(arguments: list[str], index: int) -> tuple[str, str | None]:
    """Which option ``arguments[index]`` belongs to, and the option's value if it is one."""
    argument = arguments[index]
    if argument.startswith("--") and "=" in argument:
        option, _, value = argument.partition("=")
        return option, value
    if argument.startswith("-") and argument != "-":
        return argument, None
    previous = arguments[index - 1] if index else ""
    if previous.startswith("-") and "=" not in previous and previous not in _FLAGS:
        return previous, argument
    if index == 0:
        return "COMMAND", None
    return "FLOW" if index == 1 else f"argument {index + 1}", None


def _long_option(option: str) -> str | None:
    """The checked option that ``option`` spells, abbreviations included (argparse allows them)."""
    if len(option) < 4 or not option.startswith("--"):
        return None
    matches = [name for name in _CHECKED if name.startswith(option)]
    return matches[0] if len(matches) == 1 else None


def option_value(arguments: list[str], name: str) -> str | None:
    """The value of option ``name`` in ``arguments`` (``--name V`` or ``--name=V``), if any."""
    for position, argument in enumerate(arguments):
        if argument == name and position + 1 < len(arguments):
            return arguments[position + 1]
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
    return None
