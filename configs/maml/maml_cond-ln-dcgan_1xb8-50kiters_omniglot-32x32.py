# Conditioned MAML (set encoder of the support set) on Omniglot 32x32 (4 alphabets seen, Tagalog and
# Early_Aramaic unseen), 4 support + 4 query images per task, meta-batch 8.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/maml_cond-ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py',
    '../_base_/feature_nets/omniglot_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' differs)
test_evaluator = {{_base_.fewshot_metrics}}
train_dataloader = dict(dataset=dict(k_shot=4, num_query=4))
train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=50000)
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=1000,
        num_classes=6,
        num_samples=8),
]
