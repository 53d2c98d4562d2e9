"""Every public callable of nnscratch.data and nnscratch.features has a docstring (issue 20, item 7)."""

import importlib
import inspect
import pkgutil

import nnscratch.data
import nnscratch.features


def _modules():
    for package in (nnscratch.data, nnscratch.features):
        yield package
        for info in pkgutil.iter_modules(package.__path__):
            if info.name == "images":  # data/images.py belongs to the image-files work, checked with the whole API
                continue
            yield importlib.import_module(f"{package.__name__}.{info.name}")


def _public_callables():
    for module in _modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj):
                yield f"{module.__name__}.{name}", obj
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, classmethod)):
                        yield f"{module.__name__}.{name}.{attr}", member


def test_every_public_callable_of_data_and_features_has_a_docstring():
    # a class needs its own docstring; a method may inherit the protocol's (inspect.getdoc looks up the bases)
    missing = [name for name, obj in _public_callables()
               if not (obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(getattr(obj, "__func__", obj)))]
    assert not missing, "no docstring: " + ", ".join(missing)


def test_the_walk_sees_the_public_api():
    names = {name for name, _ in _public_callables()}
    assert {"nnscratch.data.loader.DataLoader", "nnscratch.data.preprocess.Standardize",
            "nnscratch.features.hog.hog", "nnscratch.data.transformer.Transformer.get_params"} <= names
