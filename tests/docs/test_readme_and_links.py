"""The README and the documentation pages do not go stale silently: the
README's commands are what CI runs and what the tools accept, the model-zoo
tables are what the metafiles say, and every relative link resolves."""
import os.path as osp
import re

import pytest
from docs_helpers import (DOCS, REPO_ROOT, anchors, pages, read,
                          relative_links, shell_commands)
from model_zoo import RESULTS_PAGE, expected_files, load_metafiles

README = osp.join(REPO_ROOT, 'README.md')
SETUP = 'bash tools/setup_env.sh'
TESTS = '.venv/bin/python -m pytest -q tests'
BUILD_DOCS = ('.venv/bin/python -m sphinx -W --keep-going -b html docs '
              'docs/_build/html')


def test_readme_fits_on_two_screens():
    lines = read(README).count('\n')
    assert lines <= 200, f'README.md has {lines} lines; move detail to docs/'


def test_readme_set_up_test_and_docs_commands_are_what_ci_runs():
    readme = [' '.join(words) for words in shell_commands(read(README))]
    ci = [
        line.split(' || ')[0].strip()
        for line in read(osp.join(REPO_ROOT, '.ci', 'run')).splitlines()
    ]
    for command in (SETUP, TESTS, BUILD_DOCS):
        assert command in readme, f'README lacks {command!r}'
        assert command in ci, f'.ci/run does not run {command!r}'
    assert osp.isfile(osp.join(REPO_ROOT, 'docs', 'conf.py'))


@pytest.mark.parametrize(
    'page', [README, osp.join(DOCS, 'get_started.md')], ids=osp.basename)
def test_page_commands_name_files_that_exist_and_parse(page, tool,
                                                       monkeypatch):
    """Each ``tools/*.py`` and ``demo/*.py`` command of the page parses
    with the script's own argument parser, and the scripts and configs it
    names exist."""
    monkeypatch.setenv('LOCAL_RANK', '0')
    checked = 0
    for words in shell_commands(read(page)):
        while re.fullmatch(r'[A-Z_]+=\S*', words[0]):  # VAR=value command
            words = words[1:]
        if words[0] == 'bash':
            assert osp.isfile(osp.join(REPO_ROOT, words[1])), words
            if words[1].startswith('tools/dist_'):
                assert osp.isfile(osp.join(REPO_ROOT, words[2])), words
            continue
        assert words[0] == '.venv/bin/python', words
        if words[1] not in ('-m', '-c'):  # -m: the test and docs commands
            script = words[1]
            assert script.split('/')[0] in ('tools', 'demo') and osp.isfile(
                osp.join(REPO_ROOT, script)), words
            args = words[2:]
            for arg in args:
                if arg.endswith('.py'):
                    assert osp.isfile(osp.join(REPO_ROOT, arg)), arg
            name = osp.splitext(osp.basename(script))[0]
            folder = osp.join(REPO_ROOT, osp.dirname(script))
            # exits (SystemExit) if it does not parse
            tool(name, folder).parse_args(args)
            checked += 1
    assert checked, f'no tools/ command found in {page}'


def test_model_zoo_tables_match_the_metafiles():
    for path, expected in expected_files().items():
        assert read(path) == expected, (
            f'{osp.relpath(path, REPO_ROOT)} is stale: run '
            'python tools/docs/model_zoo.py')


def test_every_metafile_results_link_points_at_a_heading():
    results = anchors(read(osp.join(DOCS, 'results.md')))
    for meta in load_metafiles():
        for model in meta['Models']:
            page, _, anchor = model.get('README', '').partition('#')
            if page:
                assert page == RESULTS_PAGE, model['Name']
                assert anchor in results, (model['Name'], anchor)


@pytest.mark.parametrize(
    'page', pages(), ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_relative_links_resolve(page):
    for target, anchor in relative_links(page):
        rel = osp.relpath(target, REPO_ROOT)
        assert not rel.startswith('..'), f'{page}: link leaves the repo: {rel}'
        assert osp.exists(target), f'{page}: broken link to {rel}'
        if anchor and target.endswith('.md'):
            assert anchor in anchors(read(target)), (
                f'{page}: {rel} has no heading with anchor #{anchor}')
