#!/bin/sh
# containers/python.sh VERSION [ARGS...]: run CPython VERSION (3.11 or 3.13) with ARGS.
# containers/python.sh --root VERSION: print the Debian root that holds it (made if missing).
# containers/python.sh --argv VERSION: print the command that runs it, one word a line (for
#   callers that start it many times, e.g. the bench: no lookup per start).
#
# The Lambda artifact's .pyc files load only on the interpreter version that wrote them, and
# the containers run the Lambda default's Python, so the build needs that exact interpreter
# whatever the machine has. In order:
#   1. pythonVERSION on PATH (a laptop with it, the `sam build --use-container` build image);
#   2. a Debian root under .cache/pyroot/ with it (debootstrap: trixie has 3.13, bookworm
#      3.11), made once and reused. Its interpreter runs on this machine through the root's own
#      dynamic loader and libraries, so using it needs no chroot and no root; only making it
#      does (debootstrap). Without root and without the root dir the script says what to do.
set -eu

die() { echo "containers/python.sh: $*" >&2; exit 2; }

mode=run
case "${1:-}" in
  --root) mode=root; shift ;;
  --argv) mode=argv; shift ;;
esac
version=${1:?usage: containers/python.sh [--root] VERSION [ARGS...]}
shift

case "$version" in
  3.13) suite=trixie; packages="python3.13,python3.13-venv,python3" ;;
  # python3-distutils: bookworm's python3.11-venv needs it and debootstrap does not resolve it.
  3.11) suite=bookworm; packages="python3.11,python3.11-venv,python3-distutils,passwd" ;;
  *) die "no recipe for Python $version (3.11 or 3.13)" ;;
esac

# Asked to run, not just found: a pyenv shim is on PATH even when no such version is selected.
if [ "$mode" != root ] && "python$version" -c '' >/dev/null 2>&1; then
  if [ "$mode" = argv ]; then
    "python$version" -c 'import sys; print(sys.executable)'
    exit 0
  fi
  exec "python$version" "$@"
fi

here=$(cd "$(dirname "$0")/.." && pwd)
# The recipe is in the name: a change of suite or packages makes a new root.
recipe=$(printf '%s\n%s\n' "$suite" "$packages" | sha256sum | cut -c1-12)
root="${PYROOT_CACHE:-$here/.cache/pyroot}/$suite-python$version-$recipe"

if [ ! -x "$root/usr/bin/python$version" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v debootstrap >/dev/null 2>&1; then
    die "no python$version here, and making a Debian $suite root for it needs root and
debootstrap. Either install python$version, or run this once as root (sudo make lambda-deps),
or build inside the Lambda build image: sam build --use-container (needs Docker), or build
for python3.11: LAMBDA_PYTHON_VERSION=3.11 sam build --parameter-overrides PythonRuntime=python3.11"
  fi
  echo "containers/python.sh: debootstrap $suite with python$version into $root (about 30 s warm, 2 min cold)" >&2
  mkdir -p "$(dirname "$root")"
  work=$(mktemp -d "$(dirname "$root")/.making-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" >"$work/log" 2>&1 \
    || { tail -20 "$work/log" >&2; die "debootstrap $suite failed"; }
  # What neither a build nor an image needs: the package downloads and indexes (~90 MB).
  rm -rf "$work/root/var/cache/apt" "$work/root/var/lib/apt/lists"
  mv "$work/root" "$root"
fi

if [ "$mode" = root ]; then
  echo "$root"
  exit 0
fi

# The root's loader with the root's libraries: the host's glibc may be older than the one
# the interpreter was linked against. PYTHONHOME tells it where its standard library is.
loader=$(ls "$root"/lib64/ld-linux-*.so.* "$root"/lib/ld-linux-*.so.* 2>/dev/null | head -1)
[ -n "$loader" ] || die "no dynamic loader in $root"
libs="$root/lib/$(uname -m)-linux-gnu:$root/usr/lib/$(uname -m)-linux-gnu"
if [ "$mode" = argv ]; then
  # Without PYTHONHOME: the interpreter finds its standard library from its own path.
  printf '%s\n' "$loader" --library-path "$libs" "$root/usr/bin/python$version"
  exit 0
fi
PYTHONHOME="$root/usr" exec "$loader" --library-path "$libs" "$root/usr/bin/python$version" "$@"
