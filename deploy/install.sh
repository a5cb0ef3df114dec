#!/bin/sh
# 智慧王台 离线安装：在没有软件包索引的机器上，从本安装包（wheels/）安装到 $PREFIX（默认 /opt/wangtai）。
#   sudo sh install.sh                  # 或 PREFIX=/opt/wangtai PYTHON=python3.11 sh install.sh
# 结果：$PREFIX/app（程序）、$PREFIX/venv（Python 环境，命令 $PREFIX/venv/bin/wangtai）。
# 操作系统另需：python3.11；大屏截图与会议纪要 PDF 需要 chromium 和 fonts-noto-cjk（见 README「部署」）。
set -eu
PREFIX=${PREFIX:-/opt/wangtai}
PYTHON=${PYTHON:-python3.11}
here=$(cd "$(dirname "$0")" && pwd)

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "错误：需要 Python 3.11 或更新版本（找不到 $PYTHON；可用 PYTHON=/usr/bin/python3.11 指定）。" >&2
  exit 1
fi

# Nothing may reach for an index or a local pip configuration: only the wheels in this bundle.
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT
export PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

mkdir -p "$PREFIX"
# The program: a fresh copy; the previous one is kept as app.previous until the next install.
rm -rf "$PREFIX/app.new"
cp -R "$here/app" "$PREFIX/app.new"
if [ -d "$PREFIX/app" ]; then
  rm -rf "$PREFIX/app.previous"
  mv "$PREFIX/app" "$PREFIX/app.previous"
fi
mv "$PREFIX/app.new" "$PREFIX/app"

# The environment: created without ensurepip (Debian ships it separately), pip then installed from its wheel.
if [ ! -x "$PREFIX/venv/bin/python" ]; then
  "$PYTHON" -m venv --without-pip "$PREFIX/venv"
fi
if [ ! -x "$PREFIX/venv/bin/pip" ]; then
  pip_wheel=$(ls "$here"/wheels/pip-*.whl | head -n 1)
  "$PREFIX/venv/bin/python" "$pip_wheel/pip" install --quiet --no-index --find-links "$here/wheels" pip
fi
# Editable: the dashboard reads its pages, queries and .streamlit/ from $PREFIX/app.
"$PREFIX/venv/bin/pip" install --quiet --no-index --find-links "$here/wheels" -e "$PREFIX/app"
"$PREFIX/venv/bin/wangtai" --help > /dev/null

echo "已安装到 $PREFIX：命令 $PREFIX/venv/bin/wangtai（程序 $PREFIX/app）。"
echo "下一步见 $PREFIX/app/README.md「部署」：建 wangtai 用户、/etc/wangtai/wangtai.toml、systemd 服务、nginx。"
