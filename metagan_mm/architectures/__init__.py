"""Generator/discriminator architectures (plain nn.Modules; registration
happens in :mod:`metagan_mm.models.architectures`).

* ``FIGRDCGAN*`` / ``FIGRResNet*``: the project's own lighter networks in
  FIGR's spirit (LayerNorm, no running statistics), not FIGR's layers.
* ``FIGROriginalDCGAN*`` / ``FIGROriginalResNet*``: FIGR's published
  networks layer for layer (``model.py`` of FIGR's code).
"""
from .figr_dcgan import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from .figr_original_dcgan import (FIGROriginalDCGANDiscriminator,
                                  FIGROriginalDCGANGenerator)
from .figr_original_resnet import (FIGROriginalResNetDiscriminator,
                                   FIGROriginalResNetGenerator)
from .figr_resnet import FIGRResNetDiscriminator, FIGRResNetGenerator

__all__ = ['FIGRDCGANGenerator', 'FIGRDCGANDiscriminator',
           'FIGRResNetGenerator', 'FIGRResNetDiscriminator',
           'FIGROriginalDCGANGenerator', 'FIGROriginalDCGANDiscriminator',
           'FIGROriginalResNetGenerator', 'FIGROriginalResNetDiscriminator']
