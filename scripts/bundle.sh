#!/usr/bin/env bash
# `make bundle`: one archive to install 智慧王台 on a machine with no package index (Linux x86_64, Python 3.11):
#   dist/wangtai-bundle-<version>.tar.gz = app/ (the project) + wheels/ (every wheel it needs) + install.sh
# Needs the package index once, here; wheels are kept in dist/wheel-cache/ so the next build only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
version=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
name="wangtai-bundle-$version"
stage="dist/build/$name"
cache="dist/wheel-cache"
rm -rf "dist/build"
mkdir -p "$stage/app" "$stage/wheels" "$cache"

# The project: what the dashboard and the commands read at run time (queries/, pages/, .streamlit/ …).
tar -c --exclude=__pycache__ --exclude='*.pyc' \
  pyproject.toml README.md dashboard.py pages queries wangtai .streamlit deploy docs data/README.md \
  | tar -x -C "$stage/app"
cp deploy/install.sh "$stage/install.sh"
chmod 755 "$stage/install.sh"

# The runtime requirements from pyproject.toml, plus what installing needs: pip itself (the target's Python
# may lack ensurepip) and the build backend for the project's own (editable) install.
"$PYTHON" - > "$stage/requirements.txt" <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))
print("\n".join(project["project"]["dependencies"] + project["build-system"]["requires"] + ["pip", "wheel"]))
PY
target=(--only-binary=:all: --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
        --platform manylinux2014_x86_64 --platform linux_x86_64 --python-version 3.11 --implementation cp
        --abi cp311 --abi abi3 --abi none)
# 1. fill the cache from the index (files already there are not fetched again);
"$PYTHON" -m pip download --quiet --disable-pip-version-check "${target[@]}" -d "$cache" -r "$stage/requirements.txt"
# 2. resolve again from the cache alone: exactly the wheels needed, and proof that they suffice offline.
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
  "$PYTHON" -m pip download --quiet --disable-pip-version-check \
  --no-index --find-links "$cache" "${target[@]}" -d "$stage/wheels" -r "$stage/requirements.txt"

tar -C dist/build -cf - "$name" | gzip -1 > "dist/$name.tar.gz.tmp"
mv "dist/$name.tar.gz.tmp" "dist/$name.tar.gz"
rm -rf dist/build
echo "dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1))"
