"""``python -m blotquant`` runs the command-line interface."""

from blotquant.cli import main

raise SystemExit(main())
