"""``python -m syncstate``: the same command line as the ``syncstate`` script."""

from syncstate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
