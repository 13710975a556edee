"""The package as a user gets it: the wheel and sdist build, pass ``twine check``, install.

The wheel is built from the sdist (``python -m build``), so a file the sdist forgets is
missing from the wheel too. It is installed into a new virtual environment without its
dependencies (no network in the tests: they are found in this environment, behind the
new one's own site-packages), and used from there: ``import lucca_cards`` resolves to the
installed copy, ``lucca-cards --version`` runs, ``py.typed`` is shipped, and the data files
(the state database's migrations, the sandbox) work.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

import lucca_cards

ROOT = Path(__file__).resolve().parents[1]
#: What the installed copy is asked to do, in its own interpreter.
USE = """
import importlib.resources, pathlib, sys, tempfile
import lucca_cards
from lucca_cards import Sandbox, TrainingLedger
here = pathlib.Path(lucca_cards.__file__).resolve()
assert here.is_relative_to(pathlib.Path(sys.prefix).resolve()), here
assert importlib.resources.files("lucca_cards").joinpath("py.typed").is_file()
with tempfile.TemporaryDirectory() as folder, TrainingLedger(pathlib.Path(folder, "s.db")):
    pass
with Sandbox(employees=5) as box:
    assert box.settings().lucca_url.startswith("http://127.0.0.1:")
print(lucca_cards.__version__)
"""


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True,  # noqa: S603
                          timeout=300, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    # Neither --sdist nor --wheel: build makes the sdist, then the wheel from it.
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", folder, ROOT)
    return folder


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    built = sorted(path.name for path in dist.iterdir())
    version = lucca_cards.__version__
    assert built == [f"lucca_cards-{version}-py3-none-any.whl", f"lucca_cards-{version}.tar.gz"]
    checked = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_installs_and_works_in_a_new_environment(dist: Path, tmp_path: Path) -> None:
    target = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel)
    # The dependencies, from this environment, after the new one's own packages.
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    Path(site.stdout.strip(), "dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    used = run(python, "-c", USE)
    assert used.stdout.strip() == lucca_cards.__version__
    version = run(target / "bin" / "lucca-cards", "--version")
    assert version.stdout.strip() == f"lucca-cards {lucca_cards.__version__}"
