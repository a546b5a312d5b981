"""FIGR architectures (plain nn.Modules; registration happens elsewhere)."""
from .figr_dcgan import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from .figr_resnet import FIGRResNetDiscriminator, FIGRResNetGenerator

__all__ = ['FIGRDCGANGenerator', 'FIGRDCGANDiscriminator',
           'FIGRResNetGenerator', 'FIGRResNetDiscriminator']
