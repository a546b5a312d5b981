"""Few-shot evaluation loops: adapt to each unseen class, then measure."""
from typing import Any, Optional, Sequence

from mmengine import dist
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, ValLoop
from mmengine.utils import ProgressBar

from metagan_mm.registry import LOOPS


class FewShotIterMixin:
    """``run_iter`` of the few-shot loops (shared by val and test).

    For each class of the batch (an ``EpisodicDataset(mode='eval')``: a fixed
    K-image conditioning set and the real reference images), adapt a copy of
    the meta-model to the K images, generate ``num_samples`` images and hand
    them with the references to the evaluator.  The adapted weights are
    discarded, so the meta-weights never change.  Classes are split across
    ranks by the dataloader's sampler and the metrics gather them on rank 0;
    the same checkpoint and ``seed`` give the same numbers.
    """

    stage: str = 'val'
    _progress: Optional[ProgressBar] = None

    def __init__(self,
                 runner: Any,
                 dataloader: Any,
                 evaluator: Any,
                 num_samples: int = 64,
                 steps: Optional[int] = None,
                 seed: int = 0,
                 show_progress: bool = True,
                 fp16: bool = False) -> None:
        super().__init__(
            runner,
            dataloader,
            evaluator,  # type: ignore
            fp16)
        self.num_samples = num_samples
        self.steps = steps
        self.seed = seed
        self.show_progress = show_progress

    @property
    def total_length(self) -> int:
        """Batches per run; mmagic's ``IterTimerHook`` reads it for the ETA."""
        return len(self.dataloader)  # type: ignore[attr-defined]

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Adapt, generate and evaluate one batch of classes."""
        runner: Any = self.runner  # type: ignore[attr-defined]
        runner.call_hook(
            f'before_{self.stage}_iter', batch_idx=idx, data_batch=data_batch)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        outputs = model.fewshot_step(data_batch, self.num_samples, self.steps,
                                     self.seed)
        self.evaluator.process(  # type: ignore[attr-defined]
            data_samples=outputs,
            data_batch=data_batch)
        if self.show_progress and dist.get_rank() == 0:
            if self._progress is None:
                self._progress = ProgressBar(len(
                    self.dataloader))  # type: ignore[attr-defined]
            self._progress.update()
        runner.call_hook(
            f'after_{self.stage}_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    def run(self) -> dict:
        """Run the evaluation (a fresh progress bar each time)."""
        self._progress = None
        return super().run()  # type: ignore[misc]


@LOOPS.register_module()
class FewShotValLoop(FewShotIterMixin, ValLoop):
    """Few-shot validation loop (``val_cfg``).

    Args:
        runner: The runner.
        dataloader (dict): Dataloader of an ``EpisodicDataset(mode='eval')``
            of the unseen classes, with ``collate_fn=episodic_collate``.
        evaluator (dict | list): Few-shot metrics.
        num_samples (int): Images generated per class. Defaults to 64.
        steps (int, optional): Adaptation steps (default: training's; 0 is
            the meta-model without adaptation).
        seed (int): Seed of adaptation and generation. Defaults to 0.
        show_progress (bool): Show a progress bar on rank 0.
    """

    stage = 'val'


@LOOPS.register_module()
class FewShotTestLoop(FewShotIterMixin, TestLoop):
    """Few-shot test loop (``test_cfg``).

    Arguments as :class:`FewShotValLoop`.
    """

    stage = 'test'
