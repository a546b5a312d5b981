# FAML's setting on Omniglot 32x32: FAML's networks (13.5M parameters, E + G
# + D), one task of 4 images per meta-iteration, 10 inner steps of 2 D
# updates and one G+E update (Adam 2e-4), RaGAN + mode seeking + L1, outer
# Adam 1e-5 on G, D and E. Spectral norm in D makes the tasks run one at a
# time. Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/faml_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py',
    '../_base_/feature_nets/omniglot_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}
train_dataloader = dict(batch_size=1)

train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=100000)
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=1000,
        num_classes=6,
        num_samples=8),
]
