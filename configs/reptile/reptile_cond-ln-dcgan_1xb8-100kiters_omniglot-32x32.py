# Conditioned Reptile on Omniglot 32x32: the settings of
# reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py (10 inner Adam steps,
# meta-batch 8, outer Adam 1e-4, WGAN-GP) with a set encoder whose embedding
# of the K shots conditions G and D.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_cond-ln-dcgan_32x32.py',
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
