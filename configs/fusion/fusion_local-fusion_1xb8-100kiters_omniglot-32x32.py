# Plain local-fusion GAN (the LoFGAN baseline) on Omniglot 32x32: meta-train
# alphabets Balinese, Greek, Japanese_(katakana), Latin (121 characters, the
# discriminator's seen classes); unseen Tagalog and Early_Aramaic for
# evaluation. LoFGAN's widths (generator 32, discriminator 64), batch (8
# tasks) and iterations (100k), 4 shots per task.
# METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/fusion_local-fusion_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py',
    '../_base_/feature_nets/omniglot_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
test_evaluator = {{_base_.fewshot_metrics}}

model = dict(discriminator=dict(num_classes=121))
train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=100000)
# LoFGAN: the learning rates decay linearly to 0 over the second half
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        begin=50000,
        end=100000,
        by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=1000,
        num_classes=6,
        num_samples=8,
        steps=0),
]
test_cfg = dict(steps=0)
