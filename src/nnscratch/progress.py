"""Progress bars: where fit's epoch bar shows (terminal, Jupyter) and which kind every bar is (plain text,
or the notebook widget when ipywidgets can draw it; never tqdm.auto's TqdmWarning)."""

from __future__ import annotations


def progress_bar(total, position, epochs, progress):
    """The epoch's progress bar: shown when `progress` is True, hidden when False; with None, shown on a
    terminal and in a Jupyter kernel (where stderr is not a terminal), hidden otherwise (pipes, CI logs)."""
    if progress is None:
        disable = False if in_notebook() else None
    else:
        disable = not progress
    return tqdm_class()(total=total, initial=position.batches_done, desc=f"epoch {position.epoch + 1}/{epochs}",
                         unit="batch", disable=disable, leave=True)


def in_notebook():
    """True inside a Jupyter kernel (IPython's kernel app is running)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def tqdm_class():
    """tqdm's notebook widget when ipywidgets can draw it, else plain text tqdm: tqdm.auto without
    ipywidgets would fall back itself, but with a TqdmWarning in every notebook."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm import tqdm
        return tqdm
    from tqdm.auto import tqdm
    return tqdm
