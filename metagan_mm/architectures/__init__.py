"""FIGR architectures (plain nn.Modules; registration happens elsewhere)."""
from ._conditioning import check_condition_sizes
from .concat_dcgan_generator import ConcatConditionDCGANGenerator
from .faml_discriminator import FAMLDiscriminator
from .faml_encoder import FAMLEncoder
from .faml_generator import FAMLGenerator
from .figr_dcgan import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from .figr_resnet import FIGRResNetDiscriminator, FIGRResNetGenerator
from .projection_dcgan_discriminator import ProjectionDCGANDiscriminator
from .support_set_encoder import SupportSetEncoder

#: The conditioned networks (registered in MODELS by
#: ``metagan_mm.models.conditioned_architectures``).
CONDITIONED_ARCHITECTURES = (SupportSetEncoder, ConcatConditionDCGANGenerator,
                             ProjectionDCGANDiscriminator, FAMLEncoder,
                             FAMLGenerator, FAMLDiscriminator)

__all__ = ['FIGRDCGANGenerator', 'FIGRDCGANDiscriminator',
           'FIGRResNetGenerator', 'FIGRResNetDiscriminator',
           'SupportSetEncoder', 'ConcatConditionDCGANGenerator',
           'ProjectionDCGANDiscriminator', 'FAMLEncoder', 'FAMLGenerator',
           'FAMLDiscriminator', 'check_condition_sizes',
           'CONDITIONED_ARCHITECTURES']
