"""Register the torch-only architectures in mmagic's ``MODELS``.

The classes live in :mod:`metagan_mm.architectures` (plain ``nn.Module``\\ s,
importable without OpenMMLab, e.g. by the benchmarks on a bare GPU machine);
this module makes them buildable from configs by name.
"""
from metagan_mm.architectures import (FIGRDCGANDiscriminator,
                                      FIGRDCGANGenerator,
                                      FIGROriginalDCGANDiscriminator,
                                      FIGROriginalDCGANGenerator,
                                      FIGROriginalResNetDiscriminator,
                                      FIGROriginalResNetGenerator,
                                      FIGRResNetDiscriminator,
                                      FIGRResNetGenerator)
from metagan_mm.registry import MODELS

for _cls in (FIGRDCGANGenerator, FIGRDCGANDiscriminator, FIGRResNetGenerator,
             FIGRResNetDiscriminator, FIGROriginalDCGANGenerator,
             FIGROriginalDCGANDiscriminator, FIGROriginalResNetGenerator,
             FIGROriginalResNetDiscriminator):
    MODELS.register_module(module=_cls)
