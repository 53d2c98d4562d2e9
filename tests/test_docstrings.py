"""Every public callable of the listed modules has a docstring (issue 20, item 7).

The list is meant to grow: add a module's dotted name to PUBLIC_MODULES and its functions,
classes and their public methods and properties are checked. A module's public API is its
`__all__` when it has one, else every name not starting with "_" that was defined in nnscratch.
"""

import importlib
import inspect
import types

import pytest

PUBLIC_MODULES = [
    "nnscratch",
    "nnscratch.tensor",
    "nnscratch.creation",
    "nnscratch.function",
    "nnscratch.grad_mode",
    "nnscratch.ops",
    "nnscratch.shape_ops",
    "nnscratch.gradcheck",
    "nnscratch.blas",
    "nnscratch.parallel",
    "nnscratch.heap",
    "nnscratch.nn",
    "nnscratch.nn.functional",
    "nnscratch.nn.init",
    "nnscratch.optim",
    "nnscratch.optim.schedule",
    "nnscratch.data",
    "nnscratch.data.preprocess",
    "nnscratch.data.augment",
    "nnscratch.data.toy",
    "nnscratch.features",
    "nnscratch.train",
    "nnscratch.runs",
    "nnscratch.serialize",
    "nnscratch.model_check",
    "nnscratch.atomic",
    "nnscratch.commands",
    "nnscratch.report",
    "nnscratch.lab",
    "nnscratch.viz",
    "nnscratch.sklearn",
    "nnscratch.sweep",
    "nnscratch.playground",
    "nnscratch.functional.conv",
    "nnscratch.functional.pooling",
    "nnscratch.functional.normalization",
    "nnscratch.nn.conv",
    "nnscratch.nn.pooling",
    "nnscratch.nn.normalization",
    "nnscratch.nn.zoo",
]


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", "").startswith("nnscratch")]


def _undocumented_members(cls, prefix):
    missing = []
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        owner = next((c for c in cls.__mro__ if name in vars(c)), None)
        if owner is None or not owner.__module__.startswith("nnscratch"):
            continue  # inherited from object or a library
        raw = vars(owner)[name]
        if isinstance(raw, property):
            doc = raw.__doc__
        elif inspect.isfunction(raw) or isinstance(raw, (classmethod, staticmethod)):
            doc = inspect.getdoc(getattr(cls, name))
        else:
            continue  # a plain attribute (a name, a rule, a constant)
        if not (doc and doc.strip()):
            missing.append(f"{prefix}.{name}")
    return missing


def undocumented(module_name):
    """Dotted names of the public callables of `module_name` that have no docstring."""
    module = importlib.import_module(module_name)
    missing = []
    for name in _public_names(module):
        value = getattr(module, name)
        if isinstance(value, types.ModuleType) or not callable(value):
            continue
        # a class needs its own docstring (inspect.getdoc would lend it its base class's)
        doc = value.__doc__ if inspect.isclass(value) else inspect.getdoc(value)
        if not (doc or "").strip():
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(value):
            missing += _undocumented_members(value, f"{module_name}.{name}")
    return missing


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_callable_has_a_docstring(module_name):
    missing = undocumented(module_name)
    assert not missing, f"{len(missing)} public callables without a docstring:\n  " + "\n  ".join(sorted(set(missing)))


def test_the_check_itself_finds_a_missing_docstring():
    module = types.ModuleType("nnscratch._probe")

    class Documented:
        """Has one."""

        def method(self):
            pass

    Documented.__module__ = "nnscratch._probe"

    def bare():
        pass

    bare.__module__ = "nnscratch._probe"
    module.Documented, module.bare = Documented, bare
    import sys

    sys.modules["nnscratch._probe"] = module
    try:
        found = undocumented("nnscratch._probe")
    finally:
        del sys.modules["nnscratch._probe"]
    assert sorted(found) == ["nnscratch._probe.Documented.method", "nnscratch._probe.bare"]
