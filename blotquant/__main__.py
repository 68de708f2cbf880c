"""``python -m blotquant`` runs the command-line interface."""

from blotquant.cli import main

if __name__ == "__main__":  # not when a worker process started by spawn imports it as __mp_main__
    raise SystemExit(main())
