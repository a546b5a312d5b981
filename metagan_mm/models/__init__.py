"""Meta-learned GAN models (mmagic ``BaseGAN`` subclasses)."""
from metagan_mm.core import InnerRates
from . import architectures  # noqa: F401  (registers FIGR nets)
from . import conditioned_architectures  # noqa: F401  (registers them)
from .faml_gan import FAMLGAN
from .fusion_gan import FusionGAN
from .maml_gan import MAMLGAN
from .meta_gan import MetaGAN, MetaTrainingError
from .meta_sgd_gan import MetaSGDGAN
from .reptile_gan import ReptileGAN
from .transfer_gan import TransferGAN

__all__ = [
    'MetaGAN', 'FAMLGAN', 'FusionGAN', 'MetaTrainingError', 'InnerRates',
    'MAMLGAN', 'MetaSGDGAN', 'ReptileGAN', 'TransferGAN'
]
