"""pytest set-up for the dramkv package, run on every rank of one job
(tests/python/CMakeLists.txt: dkvrun -n 2 -- python3 -m pytest ...).

One context for the whole session (dramkv allows one per process), made
after mpi4py.MPI is imported when DKV_TEST_MPI4PY=1. Every rank runs the
same tests in the same order, so the collective calls match up.
"""

import os

import pytest

if os.environ.get("DKV_TEST_MPI4PY") == "1":
    from mpi4py import MPI  # noqa: F401 - MPI_Init before dkv_init

import dramkv  # noqa: E402


@pytest.fixture(scope="session")
def kv():
    ctx = dramkv.init()
    yield ctx
    ctx.fence()
    ctx.finalize()


@pytest.fixture(scope="session")
def shared_dir():
    """A directory with the same path on every rank of this job."""
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                        "dkv-pytest-" + os.environ["PMIX_NAMESPACE"])
    os.makedirs(path, exist_ok=True)
    return path
