"""Feature networks of the few-shot metrics and their training.

* :class:`DomainFeatureExtractor` (MODELS) -- a small CNN classifier of the
  meta-training classes (``tools/train_feature_extractor.py`` trains it);
* :class:`InceptionFeatureExtractor` (MODELS) -- Inception-v3 pool features
  from a local weight file (never downloads);
* :class:`LPIPSVGG` (MODELS) -- LPIPS v0.1 (VGG16) distances from local
  weight files (never downloads);
* :class:`DomainClassifier` (MODELS) and :class:`SeenClassImageDataset`
  (DATASETS) -- the extractor as an mmengine model and its data, for
  :func:`train_feature_extractor` (mmengine's Runner).
"""
from .domain_classifier import DomainClassifier
from .domain_feature_extractor import DomainFeatureExtractor
from .inception_feature_extractor import InceptionFeatureExtractor
from .lpips_vgg import LPIPSVGG
from .seen_class_images import SeenClassImageDataset, build_train_dataset
from .trainer import (feature_net_path, feature_net_runner_cfg,
                      train_feature_extractor)

__all__ = [
    'DomainFeatureExtractor', 'InceptionFeatureExtractor', 'LPIPSVGG',
    'DomainClassifier', 'SeenClassImageDataset', 'build_train_dataset',
    'feature_net_path', 'feature_net_runner_cfg', 'train_feature_extractor'
]
