"""Reading the README and the documentation pages in tests: their shell
commands, links and headings; import it before ``tools/docs`` modules."""
import glob
import os.path as osp
import re
import shlex
import sys
from typing import Iterator, List, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = osp.join(REPO_ROOT, 'docs')
# the documentation tools (model_zoo, registered) import as modules
sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'docs'))
FENCE = re.compile(r'^(```|~~~)[^\n]*\n.*?^\1\s*$', re.S | re.M)
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def pages() -> List[str]:
    """README.md, the configs' README.md files and every Markdown page of
    docs/ (not the build)."""
    found = [osp.join(REPO_ROOT, 'README.md')] + sorted(
        glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md')))
    for path in sorted(
            glob.glob(osp.join(DOCS, '**', '*.md'), recursive=True)):
        rel = osp.relpath(path, DOCS)
        if not rel.startswith(('_build', '_generated', 'api' + osp.sep)):
            found.append(path)
    return found


def code_blocks(text: str, lang: str) -> List[str]:
    """The bodies of the fenced blocks of one language, in order."""
    return re.findall(rf'^```{lang}\n(.*?)^```', text, re.S | re.M)


def shell_commands(text: str) -> List[List[str]]:
    """Each command of the ``bash`` blocks as its words, continuation lines
    joined and comments dropped."""
    commands = []
    for block in code_blocks(text, 'bash'):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def slug(title: str) -> str:
    """The anchor MyST (``myst_heading_anchors``) and GitHub give a
    heading."""
    title = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', title)
    title = title.replace('`', '').replace('*', '').strip().lower()
    return re.sub(r'[^\w\- ]', '', title).replace(' ', '-')


def anchors(text: str) -> set:
    """The anchors of a page's headings (outside code blocks)."""
    text = FENCE.sub('', text)
    return {
        slug(m.group(2))
        for m in re.finditer(r'^(#{1,6})\s+(.*)$', text, re.M)
    }


def relative_links(path: str) -> Iterator[Tuple[str, str]]:
    """``(target path, anchor)`` of each link and image of a page that is
    not a URL, outside code blocks; the path is absolute ('' for a link to
    an anchor of the page itself)."""
    text = FENCE.sub('', read(path))
    text = re.sub(r'`[^`\n]*`', '', text)
    for target in LINK.findall(text):
        if re.match(r'^[a-z]+:', target):
            continue
        file, _, anchor = target.partition('#')
        yield (osp.normpath(osp.join(osp.dirname(path), file))
               if file else path), anchor
