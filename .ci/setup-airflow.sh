#!/usr/bin/env bash
# Install a real Apache Airflow for the Airflow backend's engine tests (tests/airflow/).
#
# Creates its own virtual environment (Airflow pins many packages; keeping it apart from the
# dev venv avoids fighting over versions), installs apache-airflow 3.3.x, the cncf-kubernetes
# provider (so DAGs using KubernetesPodOperator can be loaded; no cluster is needed for that)
# and laminar itself, then migrates a throwaway sqlite metadata database.
#
# Idempotent: a stamp records what was installed; a second run with the same inputs does nothing.
# Progress goes to stderr. stdout gets exactly two lines for .ci/run to export:
#   LAMINAR_AIRFLOW_PYTHON=<venv>/bin/python    the interpreter that has Airflow
#   LAMINAR_AIRFLOW_HOME=<dir>                  an AIRFLOW_HOME with a migrated airflow.db
# Usage in .ci/run:   eval "$(bash .ci/setup-airflow.sh)"; export LAMINAR_AIRFLOW_PYTHON LAMINAR_AIRFLOW_HOME
#
# Environment (all optional):
#   LAMINAR_AIRFLOW_VENV        venv path (default: .ci/cache/airflow-venv in the repository)
#   LAMINAR_AIRFLOW_HOME        AIRFLOW_HOME (default: .ci/cache/airflow-home)
#   LAMINAR_AIRFLOW_KUBERNETES  0 to skip the cncf-kubernetes provider (about 25 s, 150 MB)
#   PYTHON                      interpreter for the venv (default: python3)
#
# To refresh .ci/airflow-constraints.txt: install the two pins below into an empty venv
# without -c, then `pip freeze --exclude-editable | grep -vi '^laminar'`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LAMINAR_AIRFLOW_VENV:-$repo/.ci/cache/airflow-venv}"
home="${LAMINAR_AIRFLOW_HOME:-$repo/.ci/cache/airflow-home}"
python="${PYTHON:-python3}"
kubernetes="${LAMINAR_AIRFLOW_KUBERNETES:-1}"
constraints="$repo/.ci/airflow-constraints.txt"

airflow_pin="apache-airflow==3.3.2"
kubernetes_pin="apache-airflow-providers-cncf-kubernetes==10.25.0"

say() { echo "setup-airflow: $*" >&2; }

packages=("$airflow_pin")
if [ "$kubernetes" != "0" ]; then
    packages+=("$kubernetes_pin")
fi

# Everything that decides the venv's content; laminar is installed editable, so its source
# may change without a reinstall, but its dependencies (pyproject.toml) may not.
stamp_text="$("$python" --version 2>&1) | ${packages[*]} | $repo | $(cat "$constraints" "$repo/pyproject.toml" | sha256sum | cut -c1-16)"
stamp="$venv/.laminar-airflow-stamp"

start=$SECONDS
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && [ -x "$venv/bin/airflow" ]; then
    say "venv $venv is up to date"
else
    say "creating venv $venv (${packages[*]}, laminar from $repo)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # Without byte-compiling: Airflow is thousands of modules and a run imports a few hundred
    # (each compiled on its first import), so this halves the install. Airflow and laminar's
    # dependencies first (pyproject.toml read by python3, which has tomllib),
    # then laminar itself, one editable build at a time (.ci/run installs other venvs
    # meanwhile, and each build writes laminar_compiler.egg-info in the repository).
    pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile)
    "${pip[@]}" -c "$constraints" "${packages[@]}" -r <(python3 -c '
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
        "$repo/pyproject.toml") >&2
    mkdir -p "$repo/.ci/cache"
    flock "$repo/.ci/cache/editable-build.lock" "${pip[@]}" -c "$constraints" -e "$repo" >&2
    "$venv/bin/python" -c "import airflow, laminar; print('setup-airflow: airflow', airflow.__version__)" >&2
    echo "$stamp_text" > "$stamp"
fi

# The metadata database: sqlite in a throwaway AIRFLOW_HOME. Tests copy airflow.db into their
# own temporary AIRFLOW_HOME so that runs never share state.
if [ -f "$home/airflow.db" ] && [ -f "$home/.migrated" ] && [ "$(cat "$home/.migrated")" = "$stamp_text" ]; then
    say "metadata database $home/airflow.db is up to date"
else
    say "migrating the metadata database in $home"
    rm -rf "$home"
    mkdir -p "$home"
    AIRFLOW_HOME="$home" AIRFLOW__CORE__LOAD_EXAMPLES=False \
        "$venv/bin/airflow" db migrate > "$home/migrate.log" 2>&1 \
        || { cat "$home/migrate.log" >&2; exit 1; }
    echo "$stamp_text" > "$home/.migrated"
fi
say "done in $((SECONDS - start)) s"

printf 'LAMINAR_AIRFLOW_PYTHON=%q\n' "$venv/bin/python"
printf 'LAMINAR_AIRFLOW_HOME=%q\n' "$home"
