"""Command line of the scheduler library: ``python -m scheduler <command> ...``.

The engine's commands (generate, solve, verify, bench) live in ``scheduler.cli``; the
Curtois-Qu benchmark commands (nrp, nrp-check, bench nrp) in ``scheduler.nrp.cli``.
"""

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if (args and args[0] in ("nrp", "nrp-check")) or args[:2] == ["bench", "nrp"]:
        from scheduler.nrp.cli import main as nrp_main

        return nrp_main(args)
    from scheduler.cli import main as engine_main

    return engine_main(args)


if __name__ == "__main__":
    sys.exit(main())
