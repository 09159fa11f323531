"""Write the contact sheet for review: `python -m bot.pictures --out DIR`.

Every stage's PNG and GIF plus overview.png, drawn from content/ (or --content DIR). Content
errors are printed as one line, like the bot's own start-up check, and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bot.content import ContentError, load_programme
from bot.pictures import Pictures, load_poses

CONTENT = Path(__file__).resolve().parent.parent.parent / "content"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.pictures",
                                     description="Write every stage's picture and an overview.")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--content", type=Path, default=CONTENT, help="the content folder")
    args = parser.parse_args(argv)
    try:
        poses = load_poses(args.content, load_programme(args.content))
    except ContentError as error:
        print(f"content error: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as cache:
        overview = Pictures(poses, Path(cache)).contact_sheet(args.out)
    stages = sum(len(stages) for _, stages in poses.exercises)
    print(f"{stages} stages drawn into {args.out}; overview: {overview}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
