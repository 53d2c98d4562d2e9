"""A missing optional package is named with a command that installs it: the package itself, or the
extra from the nnscratch checkout. `pip install 'nnscratch[X]'` sent users to PyPI for nnscratch."""

import sys

import pytest

from nnscratch.data import datasets, images
from nnscratch.playground import launch
from nnscratch.sweep import executors


@pytest.mark.parametrize("module, call, says", [
    ("mnist1d.data", lambda: datasets._mnist1d_arrays(),
     "pip install mnist1d (or, in the nnscratch checkout, pip install -e '.[mnist1d]')"),
    ("PIL", images._pillow, "needs Pillow: pip install pillow (or, in the nnscratch checkout, pip install -e "
                            "'.[images]'); .npy arrays need nothing"),
    ("uvicorn", launch.make_server, "pip install starlette uvicorn websockets (or, in the nnscratch checkout, "
                                    "pip install -e '.[playground]')"),
    ("distributed", lambda: executors.dask_executor("tcp://127.0.0.1:1"),
     "--scheduler needs dask.distributed: pip install 'dask[distributed]' (or, in the nnscratch checkout, "
     "pip install -e '.[dask]')"),
])
def test_a_missing_extra_names_a_command_that_installs_it(monkeypatch, module, call, says):
    monkeypatch.setitem(sys.modules, module, None)  # import of it raises ImportError
    datasets._mnist1d_arrays.cache_clear()
    with pytest.raises(ImportError) as error:
        call()
    assert str(error.value).endswith(says)
    assert "nnscratch[" not in str(error.value)
