"""Hooks."""
from .fewshot_visualization_hook import FewShotVisualizationHook
from .weights_consistency_hook import WeightsConsistencyHook

__all__ = ['FewShotVisualizationHook', 'WeightsConsistencyHook']
