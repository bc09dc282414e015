"""``python -m audit`` works the same as the ``audit`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
