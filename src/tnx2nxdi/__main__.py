from __future__ import annotations

from tnx2nxdi.cli import main

if __name__ == "__main__":
    main()
