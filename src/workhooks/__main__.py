"""Allow ``python -m workhooks``."""

from workhooks.cli import main

raise SystemExit(main())
