"""``python -m helpers COMMAND``: ``doctor`` checks this machine for the lessons (see :mod:`helpers.doctor`)."""
from __future__ import annotations

import sys

USAGE = "usage: python -m helpers doctor    (checks versions, device, model, data, font and cache)"


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["doctor"] and len(args) == 1:
        from .doctor import main as doctor

        return doctor()
    print(USAGE, file=sys.stderr if args[:1] not in (["-h"], ["--help"]) else sys.stdout)
    return 0 if args[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main())
