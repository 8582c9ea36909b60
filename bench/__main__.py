"""`python -m bench [options]`: the back-office numbers (bench/backoffice.py);
`python -m bench buyer [options]`: the buyer's pages in Chromium (bench/buyer.py);
`python -m bench basket [options]`: a basket of two devices, human-paced, in Chromium
(bench/basket.py);
`python -m bench upload`: staff clicks for a 100-device business list, quoted (bench/upload.py);
`python -m bench staff`: staff clicks to a quote and through intake in Chromium (bench/staff.py);
`python -m bench counter`: a counter buyback, human-paced, in Chromium (bench/counter.py);
`python -m bench reports [--rows N]`: the managers' reports at 1M rows (bench/reports.py).
`--help` after either lists its options."""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if argv[:1] == ["buyer"]:
        from bench.buyer import Command

        name, argv = "bench buyer", argv[1:]
    elif argv[:1] == ["basket"]:
        from bench.basket import Command

        name, argv = "bench basket", argv[1:]
    elif argv[:1] == ["upload"]:
        from bench.upload import Command

        name, argv = "bench upload", argv[1:]
    elif argv[:1] == ["reports"]:
        from bench.reports import Command

        name, argv = "bench reports", argv[1:]
    elif argv[:1] == ["counter"]:
        from bench.counter import Command

        name, argv = "bench counter", argv[1:]
    elif argv[:1] == ["staff"]:
        from bench.staff import Command

        name, argv = "bench staff", argv[1:]
    else:
        from bench.backoffice import Command

        name = "bench"
    command = Command()
    if "--help" in argv or "-h" in argv:
        command.print_help("python -m", name)
        return
    call_command(command, *argv)


if __name__ == "__main__":
    main(sys.argv[1:])
