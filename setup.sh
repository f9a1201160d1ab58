#!/usr/bin/env bash
# Create .venv (if missing) and install facebrain with its pinned dependencies.
# Idempotent: a second call with unchanged pins installs nothing.
#
# ./setup.sh --slurm-profile [PROFILE]   (instead) make `snakemake --profile slurm`
#   work from any directory: link PROFILE (default profiles/slurm) into the
#   user's snakemake config dir as ${XDG_CONFIG_HOME:-~/.config}/snakemake/slurm.
#   An existing profile of that name is never overwritten.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = "--slurm-profile" ]; then
    source_dir=$(realpath "${2:-profiles/slurm}")
    if [ ! -f "$source_dir/config.v8+.yaml" ] && [ ! -f "$source_dir/config.yaml" ]; then
        echo "setup: $source_dir is not a snakemake profile (no config.v8+.yaml or config.yaml)" >&2
        exit 1
    fi
    target="${XDG_CONFIG_HOME:-$HOME/.config}/snakemake/slurm"
    if [ -L "$target" ] && [ "$(realpath "$target")" = "$source_dir" ]; then
        echo "setup: $target already links $source_dir"
        exit 0
    fi
    if [ -e "$target" ] || [ -L "$target" ]; then
        echo "setup: $target exists and is not a link to $source_dir; not overwriting it." >&2
        echo "setup: remove or rename it, or run snakemake with --profile $source_dir" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$target")"
    ln -s "$source_dir" "$target"
    echo "setup: linked $target -> $source_dir; now \`snakemake --profile slurm ...\` uses it"
    exit 0
fi
PYTHON=${PYTHON:-python3}
stamp=.venv/.facebrain-installed
want=$(cat requirements.txt pyproject.toml | "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: .venv is up to date"
    exit 0
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo "setup: installed facebrain into .venv"
