"""Write the trained domain feature network where the metrics read it."""
import os
import os.path as osp
import time
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from metagan_mm.registry import HOOKS


@HOOKS.register_module()
class SaveFeatureNetHook(Hook):
    """Calibrate and save a :class:`DomainClassifier`'s extractor.

    After training, on the training images of the runner's
    :class:`SeenClassImageDataset`: the classifier's accuracy (eval mode),
    then :meth:`DomainFeatureExtractor.calibrate` fixes the feature scale;
    the extractor is saved to ``out`` with
    :meth:`DomainFeatureExtractor.save` (the file
    ``dict(type='DomainFeatureExtractor', checkpoint=out)`` loads) together
    with the class split, both accuracies (held-out: ``accuracy_key`` of
    the last validation, NaN without one), the feature scale, the
    iterations and the seed. The runner's own checkpoints stay in its work
    dir.

    Args:
        out (str): Output file.
        accuracy_key (str): The validation metric that is the held-out
            accuracy. Defaults to ``'heldout/accuracy'``
            (:class:`ClassifierAccuracy`).
        batch_size (int): Images per forward pass of the final accuracy and
            calibration. Defaults to 256.
    """

    priority = 'LOW'

    def __init__(self,
                 out: str,
                 accuracy_key: str = 'heldout/accuracy',
                 batch_size: int = 256) -> None:
        if not out:
            raise ValueError('SaveFeatureNetHook: out (the output file) is '
                             'required')
        self.out = out
        self.accuracy_key = accuracy_key
        self.batch_size = int(batch_size)
        self._heldout = float('nan')
        self._start = time.time()

    def before_train(self, runner) -> None:
        """Start the clock of the logged training time."""
        self._start = time.time()

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Keep the held-out accuracy of the latest validation."""
        if metrics and self.accuracy_key in metrics:
            self._heldout = float(metrics[self.accuracy_key])

    def after_train(self, runner) -> None:
        """Measure, calibrate and save the extractor (rank 0 writes)."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'class_dataset'):
            raise TypeError('SaveFeatureNetHook: the train data set must be '
                            'a SeenClassImageDataset, got '
                            f'{type(dataset).__name__}')
        data = model.data_preprocessor(
            dict(inputs=dataset.images, data_samples=dataset.labels), False)
        images, labels = data['inputs'], data['data_samples']
        net = model.extractor
        net.eval()
        with torch.no_grad():
            correct = sum(
                int((net.logits(images[i:i + self.batch_size]).argmax(1) ==
                     labels[i:i + self.batch_size]).sum())
                for i in range(0, len(labels), self.batch_size))
        train_acc = correct / max(1, len(labels))
        scale = net.calibrate(images, self.batch_size)
        classes = dataset.class_dataset
        print_log(
            f'train_feature_extractor: {classes.num_classes} meta-training '
            f'classes, {len(labels)} train / {len(classes) - len(labels)} '
            f'held-out images; accuracy train {train_acc:.3f}, held-out '
            f'{self._heldout:.3f} (chance {1 / classes.num_classes:.3f}); '
            f'{time.time() - self._start:.0f} s',
            logger='current')
        if runner.rank != 0:
            return
        os.makedirs(osp.dirname(osp.abspath(self.out)), exist_ok=True)
        net.save(
            self.out,
            split_part=classes.split_part,
            dataset=type(classes).__name__,
            split=classes.split.describe(),
            excluded_classes=sorted(
                set(classes.split_classes.get('val', []))
                | set(classes.split_classes.get('test', []))),
            val_accuracy=self._heldout,
            train_accuracy=train_acc,
            feature_scale=scale,
            iters=int(runner.iter),
            seed=int(runner.seed),
            num_images=len(classes))
        print_log(
            f'train_feature_extractor: saved {self.out}', logger='current')
