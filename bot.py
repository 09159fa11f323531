#!/usr/bin/env python3
"""Entry point: `python bot.py` runs the coach. All wiring lives in bot/app.py
(note: `import bot` loads the bot/ package, not this file)."""
import sys

from bot.app import main

if __name__ == "__main__":
    sys.exit(main())
