"""``python -m helpers.classify`` (see :mod:`helpers.classify.cli`)."""
import sys

from .cli import main

sys.exit(main())
