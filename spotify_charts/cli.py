"""``spotify-charts``: the project's command-line entry point (subcommands come with issue 7)."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spotify-charts", description="Monitor Spotify charts.")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
