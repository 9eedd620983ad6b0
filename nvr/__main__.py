"""`python -m nvr ...`: the `nvr` command line (nvr/commands/cli.py)."""

from nvr.commands.cli import main

raise SystemExit(main())
