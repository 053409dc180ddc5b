"""Jupyter server settings for `make lab` (passed with --config).

Saving a tracked notebook (anything under ``notebooks/``) from JupyterLab stores it the way the
repo keeps it: outputs only in cells marked ``# NBVAL_CHECK_OUTPUT``, no widget state, no
execution counts elsewhere (the same ``strip`` as tools/nb_refresh.py). The analyst's copies under
``lab/`` keep everything.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def strip_tracked_notebooks(model, path, contents_manager=None, **kwargs):
    if model.get("type") != "notebook" or not model.get("content"):
        return
    if not path.replace("\\", "/").lstrip("/").startswith("notebooks/"):
        return
    import nbformat
    from nb_refresh import strip

    nb = nbformat.from_dict(model["content"])
    strip(nb)
    model["content"] = nb


c = get_config()  # noqa: F821 (provided by the Jupyter config loader)
c.FileContentsManager.pre_save_hook = strip_tracked_notebooks
