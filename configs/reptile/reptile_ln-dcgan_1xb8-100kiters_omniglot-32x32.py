# Reptile on Omniglot 32x32 after FIGR: WGAN-GP, 4 shots, 10 inner steps,
# inner lr 1e-3 (Adam), outer Adam 1e-4, meta-batch 8 tasks, with the
# project's DCGAN in FIGR's spirit (1.73M parameters, G + D). FIGR's own
# networks and optimisers: reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py',
    '../_base_/feature_nets/omniglot_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}

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
