"""Few-shot metrics (registered in METRICS); see docs/evaluation.md."""
from .base_fewshot_metric import (FewShotFeatureMetric, build_feature_net,
                                  parse_class_item)
from .classifier_accuracy import ClassifierAccuracy
from .fewshot_diversity import FewShotDiversity
from .fewshot_fid import FewShotFID
from .fewshot_fidelity import FewShotFidelity
from .fewshot_kid import FewShotKID
from .fewshot_lpips import FewShotLPIPS
from .fewshot_mmagic_metric import FewShotMMagicMetric
from .fewshot_novelty import FewShotNovelty

__all__ = [
    'FewShotFeatureMetric', 'build_feature_net', 'parse_class_item',
    'FewShotFID', 'FewShotKID', 'FewShotDiversity', 'FewShotFidelity',
    'FewShotLPIPS', 'FewShotMMagicMetric', 'FewShotNovelty',
    'ClassifierAccuracy'
]
