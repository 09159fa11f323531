#!/usr/bin/env python3
"""Entry point: `python bot.py` runs the coach. The command line lives in adapters/cli.py and
the wiring in bot/bootstrap.py (note: `import bot` loads the bot/ package, not this file)."""
import sys

from adapters.cli import main

if __name__ == "__main__":
    sys.exit(main())
