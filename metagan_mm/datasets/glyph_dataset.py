"""Built-in glyph data set rendered from matplotlib's fonts (no download)."""
import os.path as osp
import unicodedata
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from metagan_mm.registry import DATASETS
from .class_image_dataset import ClassImageDataset, ClassRecord
from .class_split import SplitSpec
from .errors import DataConfigError

#: Greek capitals that do not look like a Latin capital.
_GREEK_UPPER = 'ΓΔΘΛΞΠΣΦΨΩ'
#: Greek small letters except omicron (= 'o') and final sigma.
_GREEK_LOWER = 'αβγδεζηθικλμνξπρστυφχψω'
#: Default classes: 10 digits, 52 Latin and 33 Greek letters (95 classes).
DEFAULT_CHARS = ('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'
                 'abcdefghijklmnopqrstuvwxyz' + _GREEK_UPPER + _GREEK_LOWER)
#: Default fonts (files in matplotlib's mpl-data/fonts/ttf). Fonts that lack
#: a character are skipped for it (the Computer Modern ones have no Greek).
DEFAULT_FONTS = ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf',
                 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf',
                 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
                 'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf',
                 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf',
                 'DejaVuSansMono-Oblique.ttf',
                 'DejaVuSansMono-BoldOblique.ttf', 'STIXGeneral.ttf',
                 'STIXGeneralBol.ttf', 'STIXGeneralItalic.ttf',
                 'STIXGeneralBolIta.ttf', 'cmr10.ttf', 'cmb10.ttf',
                 'cmss10.ttf', 'cmti10.ttf', 'cmtt10.ttf')

_CACHE: Dict[tuple, np.ndarray] = {}
_CMAPS: Dict[str, set] = {}


def font_dir() -> str:
    """The folder of the TrueType fonts matplotlib ships."""
    import matplotlib
    return osp.join(matplotlib.get_data_path(), 'fonts', 'ttf')


def char_group(char: str) -> str:
    """Script group of a character: ``'Digit'``, ``'Latin'``, ``'Greek'``...

    Args:
        char (str): One character.

    Returns:
        str: The first word of its Unicode name, title-cased.
    """
    name = unicodedata.name(char, '')
    return name.split(' ')[0].title() if name else 'Other'


def _cmap(path: str) -> set:
    if path not in _CMAPS:
        from fontTools.ttLib import TTFont
        with TTFont(path, lazy=True) as font:
            _CMAPS[path] = set(font.getBestCmap() or {})
    return _CMAPS[path]


def render_glyphs(chars: str, fonts: Sequence[str], images_per_class: int,
                  img_size: int, seed: int, invert: bool) -> np.ndarray:
    """Render ``[len(chars), images_per_class, S, S, 1]`` uint8 glyphs.

    Instance ``j`` of a character uses the ``j``-th of the fonts that have
    it (cycling, in a per-character seeded order) and a random rotation
    (+-12 deg), scale (0.85-1.1), shift (+-6 %) and stroke dilation drawn
    from ``np.random.default_rng([seed, ord(char), j])``. Glyphs keep their
    font's proportions: the cap height fills ~55 % of the image, the
    horizontal centre and the middle of the cap height are centred. The
    result is cached in memory per argument set.

    Args:
        chars (str): One class per character.
        fonts (Sequence[str]): Font file paths.
        images_per_class (int): Instances per character.
        img_size (int): Output side length.
        seed (int): Seed of the distortions.
        invert (bool): False: white (255) glyph on black (0); True: black
            on white, like Omniglot.

    Returns:
        np.ndarray: The rendered glyphs.
    """
    key = (chars, tuple(fonts), images_per_class, img_size, seed, invert)
    if key in _CACHE:
        return _CACHE[key]
    from PIL import Image, ImageDraw, ImageFont
    big = img_size * 4  # render 4x larger, then box-filter down
    sized_fonts: Dict[str, Tuple[object, float]] = {}
    for path in fonts:
        probe = ImageFont.truetype(path, big)
        top = probe.getbbox('H', anchor='ls')[1]  # negative: cap top
        size = max(4, int(round(big * 0.55 / max(1, -top) * big)))
        font = ImageFont.truetype(path, size)
        sized_fonts[path] = (font, font.getbbox('H', anchor='ls')[1] / 2.0)
    out = np.empty((len(chars), images_per_class, img_size, img_size, 1),
                   np.uint8)
    canvas_size = 2 * big
    for c, char in enumerate(chars):
        have = [p for p in fonts if ord(char) in _cmap(p)]
        if not have:
            raise DataConfigError(
                f'GlyphDataset: none of the fonts has character {char!r} '
                f'(U+{ord(char):04X}). Fix: remove it from chars or add a '
                'font that has it.')
        order = np.random.default_rng([seed, ord(char)]).permutation(len(have))
        for j in range(images_per_class):
            rng = np.random.default_rng([seed, ord(char), j, 1])
            font, cap_mid = sized_fonts[have[order[j % len(have)]]]
            angle = np.deg2rad(rng.uniform(-12.0, 12.0))
            scale = rng.uniform(0.85, 1.1)
            dx, dy = rng.uniform(-0.06, 0.06, size=2) * big
            stroke = int(rng.integers(0, big // 40 + 1))
            x0, _, x1, _ = font.getbbox(char, anchor='ls', stroke_width=stroke)
            canvas = Image.new('L', (canvas_size, canvas_size), 0)
            origin = (big - (x0 + x1) / 2.0, big - cap_mid)
            ImageDraw.Draw(canvas).text(
                origin,
                char,
                fill=255,
                font=font,
                anchor='ls',
                stroke_width=stroke,
                stroke_fill=255)
            # inverse affine: output (x, y) -> canvas coordinates
            k = 1.0 / scale
            a, b = k * np.cos(angle), k * np.sin(angle)
            cx, cy = big / 2.0 + dx, big / 2.0 + dy
            coeffs = (a, b, big - a * cx - b * cy, -b, a,
                      big + b * cx - a * cy)
            glyph = canvas.transform((big, big),
                                     Image.AFFINE,
                                     coeffs,
                                     resample=Image.BILINEAR)
            glyph = glyph.resize((img_size, img_size), Image.BOX)
            arr = np.asarray(glyph, np.uint8)
            out[c, j, :, :, 0] = 255 - arr if invert else arr
    out.setflags(write=False)
    _CACHE[key] = out
    return out


@DATASETS.register_module()
class GlyphDataset(ClassImageDataset):
    """Embedded few-shot data set: rendered character glyphs.

    Needs no download. Each character of ``chars`` is a class (named
    ``'<Script>/<char>'``, e.g. ``'Latin/A'``, ``'Greek/λ'``,
    ``'Digit/7'``, with the script as its group for splits); its
    ``images_per_class`` instances are the character in the fonts matplotlib
    ships (DejaVu Sans/Serif/Sans Mono in regular/bold/oblique/italic, STIX
    General x4, Computer Modern x5) with small seeded distortions (see
    :func:`render_glyphs`). Images are ``img_size x img_size x 1`` uint8,
    **white glyph on black** by default (``invert=True`` gives Omniglot's
    black on white). The default 95 classes x 20 images at 32x32 render in
    about a second; arrays are cached in memory. Entries carry ``img``, so
    the pipeline starts without a loading transform, e.g.
    ``[dict(type='PackInputs', keys='img')]``.

    Args:
        chars (str | Sequence[str]): The characters (one class each).
        images_per_class (int): Instances per class. Defaults to 20.
        img_size (int): Side length. Defaults to 32.
        fonts (Sequence[str], optional): Font files (names in matplotlib's
            font folder, or paths). Defaults to :data:`DEFAULT_FONTS`.
        seed (int): Seed of the distortions. Defaults to 0.
        invert (bool): Black glyph on white. Defaults to False.
        **kwargs: See :class:`ClassImageDataset` (``split`` by script, e.g.
            ``dict(train=['Latin', 'Digit'], test=['Greek'])``).
    """

    def __init__(self,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 chars: Union[str, Sequence[str]] = DEFAULT_CHARS,
                 images_per_class: int = 20,
                 img_size: int = 32,
                 fonts: Optional[Sequence[str]] = None,
                 seed: int = 0,
                 invert: bool = False,
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 **kwargs) -> None:
        chars = ''.join(chars)
        if len(set(chars)) != len(chars) or not chars:
            raise DataConfigError(
                f'GlyphDataset: chars must be non-empty and unique, got '
                f'{chars!r}')
        if images_per_class < 1 or img_size < 8:
            raise DataConfigError('GlyphDataset: need images_per_class >= 1 '
                                  'and img_size >= 8')
        self.chars = chars
        self.images_per_class = int(images_per_class)
        self.img_size = int(img_size)
        names = DEFAULT_FONTS if fonts is None else tuple(fonts)
        self.fonts = []
        for name in names:
            path = name if osp.isabs(name) else osp.join(font_dir(), name)
            if osp.isfile(path):
                self.fonts.append(path)
            elif fonts is not None:
                raise DataConfigError(
                    f'GlyphDataset: font {name!r} not found (looked in '
                    f'{font_dir()}). Fix: give a font file name from there '
                    'or an absolute path.')
        if not self.fonts:
            raise DataConfigError(f'GlyphDataset: no fonts in {font_dir()}')
        self.seed = int(seed)
        self.invert = bool(invert)
        self._images: Optional[np.ndarray] = None
        kwargs.setdefault('data_root', '')
        super().__init__(
            pipeline=pipeline, split=split, split_part=split_part, **kwargs)

    @property
    def images(self) -> np.ndarray:
        """All rendered glyphs ``[chars, images_per_class, S, S, 1]``."""
        if self._images is None:
            self._images = render_glyphs(self.chars, self.fonts,
                                         self.images_per_class, self.img_size,
                                         self.seed, self.invert)
        return self._images

    def scan_classes(self) -> List[ClassRecord]:
        """One record per character, in ``chars`` order (renders them)."""
        self.images  # render now: missing glyphs fail before training
        records: List[ClassRecord] = []
        for c, char in enumerate(self.chars):
            group = char_group(char)
            records.append((f'{group}/{char}', group, [
                dict(array_index=(c, j)) for j in range(self.images_per_class)
            ]))
        return records

    def _materialize(self, info: dict) -> dict:
        c, j = info['array_index']
        info['img'] = self.images[c, j].copy()
        return info
