"""``python -m helpers.pretrain --work DIR``: run or resume a tiny-ko-bert build."""
import sys

from .build import main

sys.exit(main())
