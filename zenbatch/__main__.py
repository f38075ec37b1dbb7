"""``python -m zenbatch`` runs the CLI."""

from zenbatch.cli import main

raise SystemExit(main())
