#!/bin/sh
# containers/venv.sh: the build stage both images share. Makes /opt/venv, pip-installs into
# it, and writes the .pyc files there (the tasks' root filesystems are read-only at run time).
#   venv.sh install PIP_ARGS...   e.g. the API: venv.sh install ".[server,tracing]"
#   venv.sh extra NAME            an optional-dependencies list of ./pyproject.toml (the UI),
#                                 read with tomllib so the pins live in one place
# pip reads the wheelhouse the Dockerfile copied to /wheels, and the PIP_NO_INDEX build
# argument: with PIP_NO_INDEX=1 the wheelhouse is the only source (`docker build --network
# none`, as CI builds).
set -eu
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=/wheels \
  PYTHONDONTWRITEBYTECODE=1

python3 -m venv /opt/venv
case "${1:-}" in
  install) shift; /opt/venv/bin/pip install --no-cache-dir "$@" ;;
  extra)
    /opt/venv/bin/python -c 'import sys, tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"][sys.argv[1]]))' "$2" \
      > /tmp/requirements.txt
    /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt ;;
  *) echo "usage: venv.sh install PIP_ARGS... | venv.sh extra NAME" >&2; exit 2 ;;
esac
/opt/venv/bin/python -m compileall -q /opt/venv/lib
