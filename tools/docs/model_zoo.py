"""Write the model-zoo tables from the ``configs/*/metafile.yml`` files.

    python tools/docs/model_zoo.py           # rewrite the tables in place
    python tools/docs/model_zoo.py --check   # exit 1 if a table is stale

Two tables, each between ``<!-- model-zoo:start -->`` and
``<!-- model-zoo:end -->``: one row per algorithm (metafile collection) in
``README.md``, one row per config in ``docs/model_zoo.md``.  The metafiles
are the one source; ``tests/docs/test_readme.py`` fails when a table differs
from what this script writes.
"""
import argparse
import glob
import os.path as osp
import sys
from typing import Dict, List

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
START = '<!-- model-zoo:start -->'
END = '<!-- model-zoo:end -->'
#: The page every metafile's measured results link to.
RESULTS_PAGE = 'docs/results.md'


def load_metafiles(root: str = REPO_ROOT) -> List[dict]:
    """The metafiles of ``configs/*/`` (not ``_base_``), by folder name."""
    metas = []
    for path in sorted(
            glob.glob(osp.join(root, 'configs', '*', 'metafile.yml'))):
        with open(path) as f:
            meta = yaml.safe_load(f)
        meta['folder'] = osp.relpath(osp.dirname(path), root)
        metas.append(meta)
    return metas


def data_and_size(name: str) -> str:
    """``'omniglot 32x32'`` from mmagic's ``..._{dataset}-{resolution}``."""
    last = name.rsplit('_', 1)[-1]
    data, _, size = last.rpartition('-')
    return f'{data} {size}' if data else last


def results_link(model: dict, prefix: str) -> str:
    """A link to the model's measured results, or ``-``."""
    page = model.get('README', '')
    if not page.startswith(RESULTS_PAGE):
        return '-'
    return f'[results]({prefix}{page[len("docs/"):]})'


def readme_table(metas: List[dict]) -> str:
    """One row per algorithm: paper, configs folder, data sets, results."""
    rows = [
        '| algorithm | paper | configs | data sets | measured |',
        '| --- | --- | --- | --- | --- |',
    ]
    for meta in metas:
        models = meta['Models']
        datasets = sorted({data_and_size(m['Name']) for m in models})
        measured = sum(1 for m in models if results_link(m, '') != '-')
        for collection in meta['Collections']:
            paper = collection['Paper']
            url = paper['URL']
            title = paper['Title']
            if '://' in url:
                title = f'[{title}]({url})'
            mine = [
                m for m in models if m['In Collection'] == collection['Name']
            ]
            rows.append(f'| {collection["Name"]} | {title} | '
                        f'[{len(mine)} configs]({meta["folder"]}/) | '
                        f'{", ".join(datasets)} | ' +
                        (f'[{measured} of {len(mine)}]({RESULTS_PAGE})'
                         if measured else '-') + ' |')
    return '\n'.join(rows)


def docs_table(metas: List[dict]) -> str:
    """One row per config: algorithm, data, results link."""
    rows = [
        '| config | algorithm | data | measured |',
        '| --- | --- | --- | --- |',
    ]
    for meta in metas:
        for model in meta['Models']:
            rows.append(f'| `{model["Config"]}` | {model["In Collection"]} '
                        f'| {data_and_size(model["Name"])} '
                        f'| {results_link(model, "")} |')
    return '\n'.join(rows)


def replace_between_markers(text: str, table: str, path: str) -> str:
    """``text`` with what lies between the markers replaced by ``table``."""
    if text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(f'{path} needs exactly one {START} and one {END} '
                         'line around the model-zoo table')
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f'{head}{START}\n{table}\n{END}{tail}'


def expected_files(root: str = REPO_ROOT) -> Dict[str, str]:
    """``{path: text}`` of the files with up-to-date tables."""
    metas = load_metafiles(root)
    out = {}
    for rel, table in (('README.md', readme_table(metas)),
                       (osp.join('docs', 'model_zoo.md'), docs_table(metas))):
        path = osp.join(root, rel)
        with open(path) as f:
            out[path] = replace_between_markers(f.read(), table, rel)
    return out


def main(argv=None) -> int:
    """Rewrite (or with ``--check`` compare) the tables; returns the exit
    status."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='change nothing; exit 1 if a table differs from the metafiles')
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        with open(path) as f:
            if f.read() == text:
                continue
        stale.append(osp.relpath(path, REPO_ROOT))
        if not args.check:
            with open(path, 'w') as f:
                f.write(text)
    if stale and args.check:
        print('stale model-zoo table in ' + ', '.join(stale) +
              ': run python tools/docs/model_zoo.py')
        return 1
    for path in stale:
        print(f'updated {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
