"""Seen/unseen class splits shared by every class-structured data set.

A split divides the *classes* of a data set (never the images of a class)
into the parts ``train``, ``val`` and ``test``.  Every data set of
:mod:`metagan_mm.datasets` takes the same ``split`` argument and a
``split_part`` that selects one part.  Supported specifications:

* ``None`` -- no split: all classes.
* ``dict(train=[...], val=[...], test=[...])`` -- names of groups (Omniglot
  alphabets, nested folder groups, glyph scripts) or of classes; each name is
  looked up as a class first, then as a group (``by='auto'``).  Force one
  kind with ``by='group'`` / ``by='class'``, or write
  ``dict(groups=dict(train=...))`` / ``dict(classes=dict(train=...))``.
  Parts left out are empty.
* ``dict(fractions=(0.7, 0.1, 0.2), seed=0)`` -- a seeded random partition
  of the classes (``by='group'`` partitions whole groups instead).
* ``dict(first_n=N)`` -- the first ``N`` classes (data-set order) are
  ``train``, the rest ``test`` (LoFGAN/F2GAN ``.npy`` convention);
  ``first_n=(n_train, n_val)`` puts the next ``n_val`` classes in ``val``.
* ``'path/split.json'`` or ``dict(file=...)`` -- a json file
  ``{"train": [...], "val": [...], "test": [...]}`` (the file a data set
  saves, ``{"parts": {...}}``, is accepted too) or a text file with one
  ``<part> <name>`` per line (``#`` starts a comment).

The same specification always gives the same split.  Parts that share a
class, and names that match no class or group, raise :class:`SplitError`.
"""
import difflib
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import SplitError

SplitSpec = Union[None, str, dict, 'ClassSplit']
#: The parts a class split can have, in order.
PARTS: Tuple[str, ...] = ('train', 'val', 'test')


def _names_list(value: Union[str, Sequence[str]], where: str) -> List[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise SplitError(f'split part {where!r} must be a list of names, '
                         f'got {type(value).__name__}')
    return [str(v) for v in value]


def _abbrev(names: Sequence[str], limit: int = 10) -> str:
    names = list(names)
    shown = ', '.join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f', ... ({len(names)} in all)'
    return shown


class ClassSplit:
    """A deterministic partition of a data set's classes into parts.

    Args:
        spec (None | str | dict): The split specification (see the module
            docstring).

    Example:
        >>> split = ClassSplit(dict(fractions=(0.5, 0.25, 0.25), seed=0))
        >>> parts = split.resolve(['a', 'b', 'c', 'd'])
        >>> sorted(sum(parts.values(), []))
        [0, 1, 2, 3]
    """

    def __init__(self, spec: SplitSpec = None) -> None:
        if isinstance(spec, ClassSplit):
            spec = spec.spec
        if spec is not None and not isinstance(spec, (str, dict)):
            raise SplitError(
                'split must be None, a file path or a dict, got '
                f'{type(spec).__name__}. See docs/user_guides/data.md, '
                '"Class splits".')
        self.spec = spec

    # ------------------------------------------------------------------
    def describe(self) -> str:
        """A short human-readable description of the specification."""
        if self.spec is None:
            return 'all classes (no split)'
        if isinstance(self.spec, str):
            return f'file {self.spec}'
        return repr(self.spec)

    @staticmethod
    def _read_file(path: str) -> Dict[str, List[str]]:
        if not osp.isfile(path):
            raise SplitError(f'split file {path!r} does not exist. Fix: '
                             'give an existing .json or .txt file.')
        if path.lower().endswith('.json'):
            with open(path, encoding='utf-8') as f:
                content = json.load(f)
            if isinstance(content, dict) and 'parts' in content:
                content = content['parts']
            if not isinstance(content, dict):
                raise SplitError(
                    f'split file {path!r} must hold a json object with keys '
                    f'{PARTS}, got {type(content).__name__}.')
            return {k: _names_list(v, k) for k, v in content.items()}
        parts: Dict[str, List[str]] = {}
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.split('#', 1)[0].strip()
                if not line:
                    continue
                fields = line.split(maxsplit=1)
                if len(fields) != 2:
                    raise SplitError(
                        f'{path}:{lineno}: expected "<part> <name>" (part '
                        f'one of {PARTS}), got {line!r}.')
                parts.setdefault(fields[0], []).append(fields[1].strip())
        return parts

    @staticmethod
    def _check_parts(parts: Dict[str, object]) -> None:
        unknown = [k for k in parts if k not in PARTS]
        if unknown:
            raise SplitError(f'unknown split part(s) {unknown}; the parts '
                             f'are {PARTS}.')

    # ------------------------------------------------------------------
    def resolve(self,
                class_names: Sequence[str],
                groups: Optional[Sequence[Optional[str]]] = None
                ) -> Dict[str, List[int]]:
        """Resolve the specification against a data set's classes.

        Args:
            class_names (Sequence[str]): All class names, in data-set order.
            groups (Sequence[str | None], optional): The group of each class
                (e.g. its Omniglot alphabet), or None.

        Returns:
            Dict[str, List[int]]: For each part in ``('train', 'val',
            'test')`` the indices (into ``class_names``, ascending) of its
            classes.  Without a split every part holds all classes.

        Raises:
            SplitError: Unknown names (with close matches), overlapping
                parts or malformed specifications.
        """
        class_names = list(class_names)
        n = len(class_names)
        if groups is None:
            groups = [None] * n
        groups = list(groups)
        spec = self.spec
        if spec is None:
            return {p: list(range(n)) for p in PARTS}
        if isinstance(spec, str):
            spec = dict(file=spec)
        spec = dict(spec)
        by = spec.pop('by', 'auto')
        if by not in ('auto', 'group', 'class'):
            raise SplitError(f"split 'by' must be 'auto', 'group' or "
                             f"'class', got {by!r}")

        if 'fractions' in spec:
            return self._by_fractions(spec, class_names, groups, by)
        if 'first_n' in spec:
            return self._by_first_n(spec, n)
        if 'file' in spec:
            named = self._read_file(str(spec.pop('file')))
        elif 'groups' in spec or 'classes' in spec:
            key = 'groups' if 'groups' in spec else 'classes'
            by = 'group' if key == 'groups' else 'class'
            named = dict(spec.pop(key))
        else:
            named = spec
        self._check_parts(named)
        named = {p: _names_list(v, p) for p, v in named.items()}
        return self._by_names(named, class_names, groups, by)

    # ------------------------------------------------------------------
    @staticmethod
    def _by_fractions(spec: dict, class_names: List[str],
                      groups: List[Optional[str]],
                      by: str) -> Dict[str, List[int]]:
        fractions = tuple(float(f) for f in spec['fractions'])
        seed = int(spec.get('seed', 0))
        if len(fractions) == 2:
            fractions = fractions + (max(0.0, 1.0 - sum(fractions)), )
        if (len(fractions) != 3 or any(f < 0 for f in fractions)
                or abs(sum(fractions) - 1.0) > 1e-6):
            raise SplitError(
                'split fractions must be three non-negative numbers '
                f'(train, val, test) that sum to 1, got {spec["fractions"]}')
        if by == 'group':
            units = sorted({g for g in groups if g is not None})
            if not units:
                raise SplitError("split by='group' needs a data set with "
                                 'groups (e.g. Omniglot alphabets).')
        else:
            units = list(class_names)
        m = len(units)
        order = np.random.default_rng(seed).permutation(m)
        n_train = int(round(fractions[0] * m))
        n_val = min(int(round(fractions[1] * m)), m - n_train)
        chosen = {
            'train': order[:n_train],
            'val': order[n_train:n_train + n_val],
            'test': order[n_train + n_val:]
        }
        if by == 'group':
            out = {}
            for part, idx in chosen.items():
                part_groups = {units[i] for i in idx}
                out[part] = [
                    c for c, g in enumerate(groups) if g in part_groups
                ]
            return out
        return {p: sorted(int(i) for i in idx) for p, idx in chosen.items()}

    @staticmethod
    def _by_first_n(spec: dict, n: int) -> Dict[str, List[int]]:
        first_n = spec['first_n']
        if isinstance(first_n, (list, tuple)):
            n_train, n_val = (int(v) for v in first_n)
        else:
            n_train, n_val = int(first_n), 0
        if n_train < 0 or n_val < 0 or n_train + n_val > n:
            raise SplitError(
                f'split first_n={first_n!r} needs {n_train + n_val} classes '
                f'but the data set has {n}. Fix: lower first_n.')
        return {
            'train': list(range(n_train)),
            'val': list(range(n_train, n_train + n_val)),
            'test': list(range(n_train + n_val, n))
        }

    @staticmethod
    def _by_names(named: Dict[str, List[str]], class_names: List[str],
                  groups: List[Optional[str]],
                  by: str) -> Dict[str, List[int]]:
        class_index = {c: i for i, c in enumerate(class_names)}
        group_index: Dict[str, List[int]] = {}
        for i, g in enumerate(groups):
            if g is not None:
                group_index.setdefault(g, []).append(i)
        unknown: List[Tuple[str, str]] = []
        out: Dict[str, List[int]] = {p: [] for p in PARTS}
        for part, names in named.items():
            chosen = set()
            for name in names:
                if by in ('auto', 'class') and name in class_index:
                    chosen.add(class_index[name])
                elif by in ('auto', 'group') and name in group_index:
                    chosen.update(group_index[name])
                else:
                    unknown.append((part, name))
            out[part] = sorted(chosen)
        if unknown:
            pool = (
                list(class_names) if by == 'class' else
                sorted(group_index) if by == 'group' else sorted(group_index) +
                list(class_names))
            kind = {
                'auto': 'class or group',
                'class': 'class',
                'group': 'group'
            }[by]
            lines = []
            for part, name in unknown:
                close = difflib.get_close_matches(name, pool, n=5, cutoff=0.5)
                hint = (f'did you mean {_abbrev(close)}?'
                        if close else 'no similar name')
                lines.append(f'  part {part!r}: no {kind} named {name!r} '
                             f'({hint})')
            known_groups = sorted(group_index)
            raise SplitError(
                'the class split names classes/groups that do not exist in '
                'the data set:\n' + '\n'.join(lines) +
                f'\nThe data set has {len(class_names)} classes (e.g. '
                f'{_abbrev(class_names, 5)})' +
                (f' in groups {_abbrev(known_groups, 12)}' if known_groups else
                 '') + '. Fix: correct the names in `split`.')
        seen: Dict[int, str] = {}
        overlaps: Dict[Tuple[str, str], List[str]] = {}
        for part in PARTS:
            for c in out[part]:
                if c in seen:
                    overlaps.setdefault((seen[c], part),
                                        []).append(class_names[c])
                else:
                    seen[c] = part
        if overlaps:
            msg = '; '.join(f'{a!r} and {b!r} share {_abbrev(names)}'
                            for (a, b), names in overlaps.items())
            raise SplitError(
                f'class split parts overlap: {msg}. Seen and unseen classes '
                'must be disjoint. Fix: list each class (or group) in one '
                'part only.')
        return out
