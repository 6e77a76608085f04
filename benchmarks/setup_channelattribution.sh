#!/usr/bin/env bash
# Create benchmarks/.venv-channelattribution: ChannelAttribution 2.x for the attribution
# benchmark's comparison stages (ca_markov, ca_markov_500k). GPL-3: it lives only in this
# git-ignored venv and is never imported by journeylib nor listed in pyproject/constraints.
#
#   bash benchmarks/setup_channelattribution.sh      (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benchmarks/.venv-channelattribution
python3.11 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
# The sdist compiles its C++ core (Cython + the bundled Armadillo) with the system g++; its build
# requirements (setuptools, wheel, Cython, oldest-supported-numpy) come from PyPI in pip's
# isolated build environment. 2.2.5 imports matplotlib without declaring it: install it too.
"$venv/bin/pip" install --quiet "ChannelAttribution==2.2.5" matplotlib
"$venv/bin/python" - <<'EOF'
import contextlib, io
from importlib import metadata
with contextlib.redirect_stdout(io.StringIO()):  # the import prints an advert
    import ChannelAttribution  # noqa: F401
print("ChannelAttribution", metadata.version("ChannelAttribution"), "ready")
EOF
