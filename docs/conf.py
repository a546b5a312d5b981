"""Sphinx configuration of the metagan-mm documentation (MyST Markdown).

Build it offline, failing on any warning, as CI does::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html
"""
import os.path as osp
import sys

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools', 'docs'))

import registered  # noqa: E402

import metagan_mm  # noqa: E402

project = 'metagan-mm'
author = 'metagan-mm contributors'
copyright = 'metagan-mm contributors, Apache License 2.0'
version = release = metagan_mm.__version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', '_generated']
templates_path = ['_templates']

# MyST: heading anchors for links such as results.md#a-longer-reptile-run
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence', 'deflist']

# API reference: one page per module, generated on every build from the
# package itself (autosummary :recursive:), so new or renamed classes appear
# without editing the docs.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
}
autodoc_member_order = 'bysource'
autodoc_typehints = 'none'
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

html_theme = 'furo'
html_title = f'metagan-mm {release}'
html_static_path = []


def setup(app):
    """Document private modules' exports on their packages' pages, and
    write the table of registered classes, before the sources are read."""
    registered.document_private_exports_publicly()
    registered.write_registered_table(
        osp.join(DOCS, '_generated', 'registered.md'))
