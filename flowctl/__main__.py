"""`python -m flowctl`: the command line."""

from flowctl.cli import main

main()
