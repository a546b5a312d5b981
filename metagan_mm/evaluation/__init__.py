"""Few-shot evaluation: feature networks and metrics.

Importing this package registers, in mmagic's registries,

* MODELS: :class:`DomainFeatureExtractor`, :class:`InceptionFeatureExtractor`;
* METRICS: :class:`FewShotFID`, :class:`FewShotKID`,
  :class:`FewShotDiversity`, :class:`FewShotFidelity`,
  :class:`FewShotMMagicMetric`.

Every metric takes the per-class dicts of the evaluation contract
(``docs/DESIGN.md``, "Few-shot evaluation contract"; ``docs/evaluation.md``).
"""
from .feature_nets import (DomainFeatureExtractor, InceptionFeatureExtractor,
                           train_feature_extractor)
from .metrics import (FewShotDiversity, FewShotFID, FewShotFidelity,
                      FewShotKID, FewShotMMagicMetric)

__all__ = [
    'DomainFeatureExtractor', 'InceptionFeatureExtractor',
    'train_feature_extractor', 'FewShotFID', 'FewShotKID', 'FewShotDiversity',
    'FewShotFidelity', 'FewShotMMagicMetric'
]
