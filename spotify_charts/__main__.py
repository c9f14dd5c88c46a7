"""``python -m spotify_charts``: the same as the ``spotify-charts`` command."""
import sys

from spotify_charts.cli import main

sys.exit(main())
