"""The revisions, oldest first: ``0001`` links, ``0002`` training ledger, ``0003`` life cycle."""
