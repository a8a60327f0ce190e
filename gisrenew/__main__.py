"""``python -m gisrenew``: the command line (same as the ``gisrenew`` command)."""

from gisrenew.cli import main

main()
