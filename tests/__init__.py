"""The test suite.

Bytecode: CI images often set PYTHONDONTWRITEBYTECODE, and the suite starts dozens of
interpreters (xdist workers, ``trolyso run`` processes, CLI runs, training children): each
compiled every module it imported from source again, about half of a ``trolyso run`` start's
CPU time (issue 14). The suite writes bytecode (``__pycache__/``, ignored by git), so the
first interpreter to import a module compiles it and the others read it; children inherit
the environment without the variable.
"""

import os
import sys

if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    sys.dont_write_bytecode = False
