#!/bin/sh
# The system packages a make target needs, before any virtualenv: installs what is missing
# with apt-get when it runs as root, otherwise stops at once with one line saying what to
# install. Called by the Makefile, e.g.:  sh localdev/system_packages.sh python3.11 java chromium
#
#   python3.11  the project's Python (AWS Glue 5 and Lambda-compatible code), with venv
#   java        Java 17, for Spark (the Glue job runs on local Spark)
#   chromium    headless Chromium, for the dashboard test
#   python3.13  LocalStack in host mode (no Docker engine) runs in a Python 3.13 virtualenv;
#               found as localdev/localstack.py looks for it: $LOCALSTACK_PYTHON, pyenv's
#               3.13.x, or python3.13 on PATH
set -eu

apt_packages=""   # what apt-get would install
problems=""       # what we cannot install here

need_apt() { apt_packages="$apt_packages $1"; }
cannot() { problems="${problems:+$problems; }$1"; }
apt_has() { command -v apt-cache >/dev/null 2>&1 && apt-cache show "$1" >/dev/null 2>&1; }

check_python311() {
    if command -v python3.11 >/dev/null 2>&1 && python3.11 -c "import ensurepip, venv" >/dev/null 2>&1; then
        return
    fi
    if apt_has python3.11-venv; then need_apt "python3.11 python3.11-venv"
    else cannot "Python 3.11 with its venv module (python3.11 on PATH)"; fi
}

check_java() {
    java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    if ! command -v "$java" >/dev/null 2>&1; then
        if apt_has openjdk-17-jre-headless; then need_apt openjdk-17-jre-headless
        else cannot "Java 17 for Spark (java on PATH, or JAVA_HOME)"; fi
        return
    fi
    version=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    if [ "$version" != "17" ]; then
        cannot "Java 17 for Spark (found Java ${version:-?} at $(command -v "$java"); set JAVA_HOME to a Java 17)"
    fi
}

check_chromium() {
    if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then return; fi
    if apt_has chromium; then need_apt chromium
    else cannot "Chromium for the dashboard test (chromium on PATH)"; fi
}

check_python313() {
    # Not needed when a Docker engine runs LocalStack's image instead.
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then return; fi
    if [ -n "${LOCALSTACK_PYTHON:-}" ]; then return; fi
    for python in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin/python3.13; do
        [ -x "$python" ] && return
    done
    if command -v python3.13 >/dev/null 2>&1 && PYENV_VERSION="${PYENV_VERSION:-3.13.0}" python3.13 -c \
        "import sys; sys.exit(sys.version_info[:2] != (3, 13))" >/dev/null 2>&1; then
        return
    fi
    if apt_has python3.13-venv; then need_apt "python3.13 python3.13-venv"
    else cannot "Python 3.13 for LocalStack without Docker (pyenv install 3.13.0, or set LOCALSTACK_PYTHON)"; fi
}

for need in "$@"; do
    case "$need" in
        python3.11) check_python311 ;;
        java) check_java ;;
        chromium) check_chromium ;;
        python3.13) check_python313 ;;
        *) echo "system_packages.sh: unknown need '$need'" >&2; exit 2 ;;
    esac
done

if [ -n "$problems" ]; then
    echo "missing: $problems${apt_packages:+; and apt packages$apt_packages}" >&2
    exit 1
fi
if [ -n "$apt_packages" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing system packages: run  sudo apt-get install -y$apt_packages" >&2
        exit 1
    fi
    echo "installing system packages:$apt_packages"
    apt-get update -qq
    # shellcheck disable=SC2086 (a list of package names)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade $apt_packages >/dev/null
fi
