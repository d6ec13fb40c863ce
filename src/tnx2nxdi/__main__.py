"""``python -m tnx2nxdi``: the same command as the ``tnx2nxdi`` script."""

from __future__ import annotations

import os
import sys

# `python -m` puts the working directory first on sys.path. Run inside a user's repository, a
# `click.py` or `libcst.py` there would be imported (and executed) in place of the dependency;
# the tool must never run user code, so that entry goes before anything else is imported.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from tnx2nxdi.cli import main  # noqa: E402 - after the sys.path fix on purpose

if __name__ == "__main__":
    main()
