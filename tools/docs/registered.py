"""What metagan-mm registers and exports, for its API reference.

``registered_by_metagan()`` is the one list of the classes and functions
``import metagan_mm`` adds to mmagic's registries (and to mmengine's root
``MODEL_WRAPPERS`` and ``FUNCTIONS``), ``exported_by_metagan()`` the one
list of what its modules' ``__all__`` export.  The documentation build
(``docs/conf.py``: the registries table, where private modules' exports are
documented) and the API-reference test (``tests/docs/test_api_reference.py``)
both read them.
"""
import importlib
import inspect
import os
import pkgutil
from typing import Any, Dict, List, Tuple

import mmagic.registry
import mmengine.registry
from mmengine.registry import Registry

import metagan_mm  # noqa: F401  (registers everything)


def registered_by_metagan() -> Dict[str, List[Tuple[str, Any]]]:
    """``{registry title: [(registered name, object), ...]}``, sorted.

    The registries of mmagic and the root registries of mmengine, with only
    the entries defined in ``metagan_mm``.
    """
    out: Dict[str, List[Tuple[str, Any]]] = {}
    for module in (mmagic.registry, mmengine.registry):
        scope = 'mmengine root ' if module is mmengine.registry else ''
        for attr in sorted(vars(module)):
            registry = getattr(module, attr)
            # MMENGINE_*: mmagic's aliases of mmengine's root registries
            if not isinstance(registry, Registry) or \
                    attr.startswith('MMENGINE_'):
                continue
            ours = sorted(
                (name, obj) for name, obj in registry.module_dict.items()
                if getattr(obj, '__module__', '').startswith('metagan_mm'))
            if ours:
                out[f'{scope}`{attr}`'] = ours
    return out


def public_modules() -> List[str]:
    """Every module of ``metagan_mm`` without a private (``_``) part."""
    names = ['metagan_mm'] + [
        info.name
        for info in pkgutil.walk_packages(metagan_mm.__path__, 'metagan_mm.')
    ]
    return [n for n in names if not is_private(n)]


def is_private(module_name: str) -> bool:
    """Whether a dotted module name has a part starting with ``_``."""
    return any(part.startswith('_') for part in module_name.split('.'))


def public_home(module_name: str) -> str:
    """The module whose API-reference page documents what is defined in
    ``module_name``: itself, or for a private module its nearest public
    package (``metagan_mm.architectures._conditioning`` ->
    ``metagan_mm.architectures``)."""
    parts = module_name.split('.')
    while is_private('.'.join(parts)):
        parts.pop()
    return '.'.join(parts)


def exported_by_metagan() -> List[Tuple[str, str, Any]]:
    """``(module, name, object)`` of every ``__all__`` entry of metagan_mm's
    public modules that metagan_mm defines (the registries that
    ``metagan_mm.registry`` re-exports from mmagic are mmagic's)."""
    out = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, '__all__', ()):
            obj = getattr(module, name)
            defined_in = getattr(obj, '__module__', None) if (
                inspect.isclass(obj) or inspect.isfunction(obj)) else None
            if isinstance(obj, Registry) or (
                    defined_in and not defined_in.startswith('metagan_mm')):
                continue
            out.append((module_name, name, obj))
    return out


def document_private_exports_publicly() -> None:
    """Give the classes and functions that public packages export from
    their private modules (``_conditioning.check_condition_sizes``) their
    public package as ``__module__``, so that autodoc documents them on
    that package's page.  For the documentation build only."""
    for _, _, obj in exported_by_metagan():
        module = getattr(obj, '__module__', None)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                is_private(module):
            obj.__module__ = public_home(module)


def write_registered_table(path: str) -> None:
    """Write the Markdown table of :func:`registered_by_metagan` to
    ``path``, each name linked to its API-reference entry."""
    rows = ['| registry | registered names |', '| --- | --- |']
    for registry, entries in registered_by_metagan().items():
        names = ', '.join(
            f'{{py:obj}}`{name} '
            f'<{public_home(obj.__module__)}.{obj.__qualname__}>`'
            for name, obj in entries)
        rows.append(f'| {registry} | {names} |')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = '\n'.join(rows) + '\n'
    if os.path.isfile(path):
        with open(path) as f:
            if f.read() == text:  # unchanged: keep Sphinx's cache valid
                return
    with open(path, 'w') as f:
        f.write(text)
