"""``python -m laminar`` is the ``laminar`` command."""

from laminar.cli import main

raise SystemExit(main())
