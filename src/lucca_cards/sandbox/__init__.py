"""The sandbox: stateful fakes of Lucca and Cards, served over loopback, with a generated company.

Built from the published API references, not from this SDK's clients (nothing here imports
them), so that a test against the sandbox checks the clients against the documents rather than
against themselves. Use it from tests and notebooks, or run ``lucca-cards sandbox serve``::

    from lucca_cards import CardsClient, Sandbox

    with Sandbox(employees=100) as sandbox:
        cards = CardsClient.from_settings(sandbox.settings())
        print(cards.users.list().first())
"""

from ._faults import Faults
from ._sandbox import Sandbox, SandboxCredentials
from .activity import ActivityReport

__all__ = ["ActivityReport", "Faults", "Sandbox", "SandboxCredentials"]
