"""Register the torch-only conditioned architectures in mmagic's ``MODELS``.

The classes live in :mod:`metagan_mm.architectures` (plain ``nn.Module``\\ s,
importable without OpenMMLab); this module makes them buildable from
configs by name (``SupportSetEncoder``, ``ConcatConditionDCGANGenerator``,
``ProjectionDCGANDiscriminator``, ``FAMLEncoder``, ``FAMLGenerator``,
``FAMLDiscriminator``).
"""
from metagan_mm.architectures import CONDITIONED_ARCHITECTURES
from metagan_mm.registry import MODELS

for _cls in CONDITIONED_ARCHITECTURES:
    MODELS.register_module(module=_cls)
