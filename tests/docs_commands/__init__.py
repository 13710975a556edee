"""The harness of ``tests/test_docs_commands.py``: the docs' shell commands, run as typed.

* :mod:`.extract` lists the guide pages and reads each page's commands;
* :mod:`.expect` says what the docs imply about a command's run, and judges it;
* :mod:`.processes` runs a command, or a server, as a shell would;
* :mod:`.session` runs one page's commands in order, as one shell session, with the
  harness's stand-ins for the hosts, ports and ids of the docs;
* :mod:`.environment` is the world they run in: a clean environment, the shared sandbox.
"""
