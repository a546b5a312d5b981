# Conditioned MAML on the embedded glyph data set (no download), CPU-sized:
# the project's FIGR-spirit DCGAN at quarter width, 4 tasks of 4 support + 4
# query images; a set encoder embeds the support set into the condition.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/maml_cond-ln-dcgan_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py',
    '../_base_/feature_nets/glyphs_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}
model = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
    encoder=dict(base_channels=16))
train_dataloader = dict(batch_size=4, dataset=dict(k_shot=4, num_query=4))
train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=200)
default_hooks = dict(checkpoint=dict(interval=100))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=100,
        num_classes=4,
        num_samples=8),
]
