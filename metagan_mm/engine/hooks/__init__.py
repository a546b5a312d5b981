"""Hooks."""
from .fewshot_visualization_hook import FewShotVisualizationHook
from .save_feature_net_hook import SaveFeatureNetHook
from .weights_consistency_hook import WeightsConsistencyHook

__all__ = [
    'FewShotVisualizationHook', 'SaveFeatureNetHook', 'WeightsConsistencyHook'
]
