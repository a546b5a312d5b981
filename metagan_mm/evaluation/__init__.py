"""Few-shot evaluation: feature networks and metrics.

Importing this package registers, in mmagic's registries,

* MODELS: :class:`DomainFeatureExtractor`, :class:`InceptionFeatureExtractor`,
  :class:`DomainClassifier` (the extractor as a trainable mmengine model);
* DATASETS: :class:`SeenClassImageDataset` (its training images);
* METRICS: :class:`FewShotFID`, :class:`FewShotKID`,
  :class:`FewShotDiversity`, :class:`FewShotFidelity`,
  :class:`FewShotNovelty`, :class:`FewShotMMagicMetric`,
  :class:`ClassifierAccuracy` (the extractor's held-out accuracy).

Every few-shot metric takes the per-class dicts of the evaluation contract
(``docs/DESIGN.md``, "Few-shot evaluation contract"; ``docs/evaluation.md``).
"""
from .feature_nets import (DomainClassifier, DomainFeatureExtractor,
                           InceptionFeatureExtractor, SeenClassImageDataset,
                           train_feature_extractor)
from .metrics import (ClassifierAccuracy, FewShotDiversity, FewShotFID,
                      FewShotFidelity, FewShotKID, FewShotMMagicMetric,
                      FewShotNovelty)

__all__ = [
    'DomainFeatureExtractor', 'InceptionFeatureExtractor', 'DomainClassifier',
    'SeenClassImageDataset', 'train_feature_extractor', 'FewShotFID',
    'FewShotKID', 'FewShotDiversity', 'FewShotFidelity', 'FewShotNovelty',
    'FewShotMMagicMetric', 'ClassifierAccuracy'
]
