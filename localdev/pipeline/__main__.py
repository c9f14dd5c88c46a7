import sys

from localdev.pipeline.cli import main

sys.exit(main())
