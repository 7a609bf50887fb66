"""``python -m helpers.qa`` (see :mod:`helpers.qa.cli`)."""
import sys

from .cli import main

sys.exit(main())
