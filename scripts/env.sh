# The environment the make targets run in (sourced by lib.sh, not run).
#
# Everything this project installs lives in one cache outside the checkout
# (OMEGA_CACHE, default ~/.cache/omega-autointegrate), so that the system
# Python is never touched and a clean clone without network (CI) finds what
# an earlier run set up:
#   odoo-18.0/src    Odoo 18.0 from ODOO_SOURCE at ODOO_REF (never committed)
#   odoo-18.0/venv   Odoo's pinned requirements (requests 2.31, urllib3 1.26
#                    on Python 3.11) and the test tools
#   tools-venv       current requests/urllib3, pytest, ruff, pylint-odoo
#   site-<python>    the test tools for an Odoo the user installed himself
# Each step prints one line and skips what is there already.

OMEGA_CACHE=${OMEGA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omega-autointegrate}
ODOO_HOME="$OMEGA_CACHE/odoo-18.0"
DEFAULT_ODOO_SOURCE=https://github.com/odoo/odoo
DEFAULT_ODOO_REF=18.0

# what the addon's tests need in Odoo's python, and what the Odoo-free tests
# and the linters need beside it; pinned like .pre-commit-config.yaml
TEST_REQUIREMENTS=("pytest>=7" "hypothesis>=6" "websocket-client>=1")
TOOLS_REQUIREMENTS=("requests>=2.32" "urllib3>=2" "${TEST_REQUIREMENTS[@]}" "ruff>=0.5" "pylint-odoo==10.0.12" lxml)

pip_quiet() {  # python, pip arguments...: pip without its chatter, its log shown when it fails
  local python=$1 log
  shift
  log=$(mktemp)
  if ! "$python" -m pip install --disable-pip-version-check --no-input -q "$@" >"$log" 2>&1; then
    tail -30 "$log"; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

stamp_of() {  # the text a step's stamp file holds once it is done
  printf '%s\n' "$@" | sha1sum | cut -c1-16
}

base_python() {  # the Python the virtual environments are made from
  local candidate
  for candidate in "${PYTHON:-}" python3 python3.12 python3.11 python3.10; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  say "!! Odoo 18 needs Python 3.10, 3.11 or 3.12 with venv and ensurepip (Debian: apt install python3-venv)"
  return 1
}

# Odoo 18.0's source in the cache. Without ODOO_SOURCE/ODOO_REF a cached
# checkout is used as it is (CI has no network); with them, the checkout is
# replaced when it came from elsewhere.
ensure_odoo_source() {
  local source=${ODOO_SOURCE:-$DEFAULT_ODOO_SOURCE} ref=${ODOO_REF:-$DEFAULT_ODOO_REF}
  local src="$ODOO_HOME/src" wanted="$source $ref"
  if [ -f "$src/odoo-bin" ] && [ -f "$src/.omega-source" ]; then
    if [ -z "${ODOO_SOURCE:-}${ODOO_REF:-}" ] || [ "$(head -1 "$src/.omega-source")" = "$wanted" ]; then
      say "Odoo source: $src ($(sed -n 2p "$src/.omega-source"), cached)"
      return 0
    fi
  fi
  command -v git >/dev/null 2>&1 || { say "!! git is needed to fetch Odoo (Debian: apt install git)"; return 1; }
  # a local repository resolves an abbreviated commit; a remote one is asked
  # for the branch, tag or full commit as given
  local fetch_ref=$ref
  if [ -d "$source" ]; then
    fetch_ref=$(git -C "$source" rev-parse --verify -q "$ref^{commit}") \
      || { say "!! $ref is no commit of $source"; return 1; }
  fi
  say "Odoo source: fetching $ref from $source into $src"
  local tmp="$ODOO_HOME/src.partial"
  rm -rf "$tmp" && mkdir -p "$ODOO_HOME" && git init -q "$tmp" || return 1
  if ! git -C "$tmp" fetch -q --depth 1 "$source" "$fetch_ref" || ! git -C "$tmp" checkout -q FETCH_HEAD; then
    rm -rf "$tmp"; say "!! could not fetch Odoo $ref from $source (set ODOO_SOURCE to a reachable Odoo 18.0 repository)"
    return 1
  fi
  if ! grep -q "^version_info = (18, 0" "$tmp/odoo/release.py" 2>/dev/null; then
    rm -rf "$tmp"; say "!! $source at $ref is not Odoo 18.0"; return 1
  fi
  printf '%s\n%s\n' "$wanted" "$(git -C "$tmp" rev-parse --short=8 HEAD)" > "$tmp/.omega-source"
  rm -rf "$src" && mv "$tmp" "$src"
}

# Odoo's own virtual environment: its requirements as pinned for this
# Python, made installable without build headers (scripts/odoo_requirements.py),
# with Odoo itself on its path and the test tools.
ensure_odoo_venv() {
  local venv="$ODOO_HOME/venv" src="$ODOO_HOME/src" base stamp requirements
  base=$(base_python) || return 1
  requirements=$("$base" "$ROOT/scripts/odoo_requirements.py" "$src/requirements.txt") || return 1
  stamp=$(stamp_of "$("$base" -VV)" "$requirements" "${TEST_REQUIREMENTS[@]}")
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.omega-stamp" 2>/dev/null)" = "$stamp" ]; then
    say "Odoo's Python environment: $venv (ready)"
  else
    say "Odoo's Python environment: installing Odoo's requirements into $venv (a few minutes, once)"
    [ -x "$venv/bin/python" ] || "$base" -m venv "$venv" || return 1
    local file
    file=$(mktemp)
    printf '%s\n' "$requirements" > "$file"
    # setuptools<70: a few of Odoo's pins (cbor2, vobject…) still build with setup.py
    pip_quiet "$venv/bin/python" --prefer-binary "setuptools<70" wheel \
      && pip_quiet "$venv/bin/python" --prefer-binary -r "$file" "${TEST_REQUIREMENTS[@]}" \
      || { rm -f "$file"; say "!! could not install Odoo's requirements"; return 1; }
    rm -f "$file"
    echo "$stamp" > "$venv/.omega-stamp"
  fi
  # Odoo from the cache's source, as 'pip install -e' would, without a build
  local site
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  [ "$(cat "$site/odoo-source.pth" 2>/dev/null)" = "$src" ] || echo "$src" > "$site/odoo-source.pth"
}

# current requests and urllib3 for the Odoo-free tests, and the linters
ensure_tools_venv() {
  local venv="$OMEGA_CACHE/tools-venv" base stamp
  base=$(base_python) || return 1
  stamp=$(stamp_of "$("$base" -VV)" "${TOOLS_REQUIREMENTS[@]}")
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.omega-stamp" 2>/dev/null)" = "$stamp" ]; then
    say "Test and lint tools: $venv (ready)"
  else
    say "Test and lint tools: installing ${TOOLS_REQUIREMENTS[*]} into $venv (once)"
    [ -x "$venv/bin/python" ] || "$base" -m venv "$venv" || return 1
    pip_quiet "$venv/bin/python" "${TOOLS_REQUIREMENTS[@]}" || { say "!! could not install the tools"; return 1; }
    echo "$stamp" > "$venv/.omega-stamp"
  fi
  TOOLS_PY="$venv/bin/python"
  export TOOLS_PY
}

# The test tools beside an Odoo the user installed himself, in a folder of
# the cache put on PYTHONPATH: his Python stays as it is.
ensure_test_tools_for() {
  local python=$1 target stamp
  if "$python" -c 'import pytest, hypothesis, websocket' >/dev/null 2>&1; then
    return 0
  fi
  target="$OMEGA_CACHE/site-$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  stamp=$(stamp_of "$("$python" -VV)" "${TEST_REQUIREMENTS[@]}")
  if [ "$(cat "$target/.omega-stamp" 2>/dev/null)" != "$stamp" ]; then
    say "Test tools for $python: installing ${TEST_REQUIREMENTS[*]} into $target (once)"
    pip_quiet "$python" --target "$target" "${TEST_REQUIREMENTS[@]}" || return 1
    echo "$stamp" > "$target/.omega-stamp"
  fi
  export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"
}
