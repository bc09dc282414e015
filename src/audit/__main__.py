"""``python -m audit`` works the same as the ``audit`` console script."""

import sys

from audit.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
