"""Generator/discriminator architectures (plain nn.Modules; registration
happens in :mod:`metagan_mm.models.architectures` and
:mod:`metagan_mm.models.conditioned_architectures`).

* ``FIGRDCGAN*`` / ``FIGRResNet*``: the project's own lighter networks in
  FIGR's spirit (LayerNorm, no running statistics), not FIGR's layers.
* ``FIGROriginalDCGAN*`` / ``FIGROriginalResNet*``: FIGR's published
  networks layer for layer (``model.py`` of FIGR's code).
* The conditioned networks (support-set encoders, conditioned G and D) of
  conditional meta-GANs.
* ``LocalFusionGenerator`` / ``ClassHeadResNetDiscriminator``: the
  local-fusion networks in the style of LoFGAN.
"""
from ._conditioning import (ConditionalNet, check_condition_sizes,
                            condition_size)
from .class_head_resnet_discriminator import ClassHeadResNetDiscriminator
from .concat_dcgan_generator import ConcatConditionDCGANGenerator
from .faml_discriminator import FAMLDiscriminator
from .faml_encoder import FAMLEncoder
from .faml_generator import FAMLGenerator
from .figr_dcgan import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from .figr_original_dcgan import (FIGROriginalDCGANDiscriminator,
                                  FIGROriginalDCGANGenerator)
from .figr_original_resnet import (FIGROriginalResNetDiscriminator,
                                   FIGROriginalResNetGenerator)
from .figr_resnet import FIGRResNetDiscriminator, FIGRResNetGenerator
from .local_fusion_generator import LocalFusionGenerator
from .projection_dcgan_discriminator import ProjectionDCGANDiscriminator
from .support_set_encoder import SupportSetEncoder

#: The conditioned networks (registered in MODELS by
#: ``metagan_mm.models.conditioned_architectures``).
CONDITIONED_ARCHITECTURES = (SupportSetEncoder, ConcatConditionDCGANGenerator,
                             ProjectionDCGANDiscriminator, FAMLEncoder,
                             FAMLGenerator, FAMLDiscriminator)

#: The local-fusion networks (registered in MODELS by
#: ``metagan_mm.models.fusion_gan``).
FUSION_ARCHITECTURES = (LocalFusionGenerator, ClassHeadResNetDiscriminator)

__all__ = [
    'FIGRDCGANGenerator', 'FIGRDCGANDiscriminator', 'FIGRResNetGenerator',
    'FIGRResNetDiscriminator', 'FIGROriginalDCGANGenerator',
    'FIGROriginalDCGANDiscriminator', 'FIGROriginalResNetGenerator',
    'FIGROriginalResNetDiscriminator', 'SupportSetEncoder',
    'ConcatConditionDCGANGenerator', 'ProjectionDCGANDiscriminator',
    'FAMLEncoder', 'FAMLGenerator', 'FAMLDiscriminator',
    'LocalFusionGenerator', 'ClassHeadResNetDiscriminator',
    'check_condition_sizes', 'CONDITIONED_ARCHITECTURES',
    'FUSION_ARCHITECTURES', 'ConditionalNet', 'condition_size'
]
