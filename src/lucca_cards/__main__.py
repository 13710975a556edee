"""``python -m lucca_cards`` runs the ``lucca-cards`` command."""

import sys

from .cli import main

sys.exit(main())
