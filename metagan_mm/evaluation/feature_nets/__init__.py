"""Feature networks of the few-shot metrics (registered in MODELS).

* :class:`DomainFeatureExtractor` -- a small CNN classifier of the
  meta-training classes (``tools/train_feature_extractor.py`` trains it);
* :class:`InceptionFeatureExtractor` -- Inception-v3 pool features from a
  local weight file (never downloads).
"""
from .domain_feature_extractor import DomainFeatureExtractor
from .inception_feature_extractor import InceptionFeatureExtractor
from .trainer import build_train_dataset, train_feature_extractor

__all__ = [
    'DomainFeatureExtractor', 'InceptionFeatureExtractor',
    'train_feature_extractor', 'build_train_dataset'
]
