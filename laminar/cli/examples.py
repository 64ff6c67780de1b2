"""What ``laminar --help`` and each command's ``--help`` show after the options: examples a
user can copy. Imported only when the command line is parsed by argparse (help, errors), never
on a deployed task's path.

Each text's examples run as shown, in order, from the repository's root (the lines starting
with ``laminar`` or ``NAME=value laminar``; two spaces end a command and start its comment):
tests/test_documented_commands.py runs them, so they cannot rot.
"""

TOP = """\
examples:
  laminar run examples/grid.py                      run a flow locally (.laminar/ datastore)
  laminar run examples/grid.py --workers 2          ForEach tasks in 2 processes
  laminar run examples/grid.py --keep-going         after a failure, run what does not need it
  laminar run examples/grid.py --execution nightly-1
  laminar run examples/grid.py --execution nightly-1 --rerun Process   run Process on again
  laminar show examples/grid.py Shard.foo           read a result of the latest run
  laminar logs examples/grid.py Process[1]          what task 1 of Process printed
  laminar graph examples/grid.py --format mermaid   the flow's graph
  laminar compile examples/grid.py --target argo --image ghcr.io/acme/flows:1.4 \\
      --datastore s3://bucket/laminar -o grid.yaml
  laminar compile examples/grid.py --target airflow -o dags/grid_flow.py
  laminar compile examples/grid.py --target github -o .github/workflows/grid.yml

FLOW is path/to/flow.py, or path/to/flow.py:FlowName when the file defines several flows.
The datastore defaults to $LAMINAR_DATASTORE, else .laminar/ in the working directory.
"""

RUN = (
    "examples:\n  laminar run examples/grid.py\n"
    "  laminar run examples/grid.py --execution nightly-1 --workers 4\n"
    "  laminar run examples/grid.py --execution nightly-1   again: resumes, nothing left to run\n"
    "\n"
    "Running again with the same --execution resumes: committed tasks are skipped.\n"
    "A failing task stops the run (fail-fast); --keep-going runs every task and layer that\n"
    "does not depend on it first, then fails listing the failures."
)

GRAPH = (
    "examples:\n  laminar graph examples/grid.py                   layers and what they read\n"
    "  laminar graph examples/grid.py --format mermaid  paste into a Markdown page\n"
    "  laminar graph examples/grid.py --format dot > grid.dot   for Graphviz (dot -Tsvg)\n"
    "  laminar graph examples/branching.py --target github   the jobs GitHub would run\n\n"
    "Each layer is marked with what decides how it runs: (foreach A.x) for a fan-out\n"
    "(1:1 when mapped onto a ForEach layer), (if hook()) for an entry hook that may\n"
    "skip it, (catch Error) for errors recorded as not finished. With --target, each\n"
    "job says what it runs, and a planning step that stays a job of its own says why\n"
    "(planned apart: ...)."
)

SHOW = (
    "examples:\n  laminar run examples/grid.py --execution nightly-1   a run to show\n"
    "  laminar show examples/grid.py                          list executions\n"
    "  laminar show examples/grid.py --execution nightly-1    layers and attributes of one\n"
    "  laminar show examples/grid.py Shard.foo                one attribute of the latest run"
)

LOGS = (
    "examples:\n  laminar logs examples/grid.py Process[3]     task 3 of the latest run\n"
    "  laminar logs examples/grid.py Process --execution nightly-1   every task of one run\n"
    "  laminar logs examples/grid.py Process[3] --attempt 1   one attempt of a retried task\n\n"
    "Kept in the datastore for every attempt that printed something or raised, whatever ran\n"
    "it (laminar run, Argo, Airflow, GitHub Actions): up to 1 MiB of stdout and of stderr\n"
    "each, with a note where the middle of longer output was cut."
)

PLAN = (
    "examples:\n"
    "  laminar task examples/grid.py --layer=Shard --execution run-1   Process reads it\n"
    "  LAMINAR_EXECUTION=run-1 laminar plan examples/grid.py --layer=Process --format count\n"
    "  laminar plan examples/grid.py --layer=Process --execution run-1 --max-legs 20 \\\n"
    '      --format github --output "$GITHUB_OUTPUT"\n\n'
    "Planning again returns the committed plan. DEVELOPERS.md describes the contract."
)

TASK = (
    "examples:\n  laminar task examples/grid.py --layer=Shard --execution run-1\n"
    "  laminar plan examples/grid.py --layer=Process --execution run-1 --format count\n"
    "  LAMINAR_EXECUTION=run-1 LAMINAR_LEG=3 laminar task examples/grid.py --layer=Process\n\n"
    "Committed tasks are not run again, so re-running a failed job resumes it.\n"
    "--datastore URL (or $LAMINAR_DATASTORE) names a datastore every task reaches, such as\n"
    "s3://bucket/laminar."
)
