"""``python -m helpers.chatbot``: see :mod:`helpers.chatbot.cli`."""
import sys

from .cli import main

sys.exit(main())
