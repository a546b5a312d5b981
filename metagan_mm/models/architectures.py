"""Register the torch-only FIGR architectures in mmagic's ``MODELS``.

The classes live in :mod:`metagan_mm.architectures` (plain ``nn.Module``\\ s,
importable without OpenMMLab, e.g. by the benchmarks on a bare GPU machine);
this module makes them buildable from configs by name.
"""
from metagan_mm.architectures import (FIGRDCGANDiscriminator,
                                      FIGRDCGANGenerator,
                                      FIGRResNetDiscriminator,
                                      FIGRResNetGenerator)
from metagan_mm.registry import MODELS

for _cls in (FIGRDCGANGenerator, FIGRDCGANDiscriminator, FIGRResNetGenerator,
             FIGRResNetDiscriminator):
    MODELS.register_module(module=_cls)
