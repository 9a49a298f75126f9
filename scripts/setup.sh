#!/usr/bin/env bash
# One set-up for `make demo`, `make test` and CI: system tools via apt-get (when root),
# then a project venv with pinned Python packages (the jjava Java kernel among them),
# `clx setup` for the non-Python tools and Deno (TypeScript kernel); kernelspecs go
# into the venv's own Jupyter folder, never the user's home.
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
# The multi-host test puts workers into network namespaces of their own.
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
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
# The non-Python tools (PlantUML jar, draw.io web app, Deno and its kernelspec, the scripts
# HTML pages load), at the versions pinned in src/clx/install/pins.py and
# src/clx/pipeline/assets.py: the same command a pip/pipx user runs, here into the venv.
"$VENV/bin/clx" setup --prefix "$VENV" >/dev/null
touch "$VENV/.clx-setup-done"
echo "setup: ready ($VENV)"
