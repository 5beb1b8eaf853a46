"""Streamlit entry point: `streamlit run src/ui/app.py` (repo) or `streamlit run ui/app.py`.

Streamlit runs this file as a script, with its own folder (not the folder that holds
the `ui` package) on sys.path. Put the package's parent first, so `import ui...`
resolves the same way from the repo root, from the container's working directory and
under streamlit.testing's AppTest.from_file.
"""

import sys
from pathlib import Path

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
if _PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _PACKAGE_PARENT)

from ui.page import main  # noqa: E402 - needs the sys.path line above

main()
