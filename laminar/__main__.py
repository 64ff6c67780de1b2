"""``python -m laminar`` is the ``laminar`` command."""

from laminar.cli.main import main

raise SystemExit(main())
