# Conditioned Reptile on the embedded glyph data set (no download), CPU-sized:
# the quick start's budget (quarter width, 5 inner steps, 4 tasks, outer
# Adam 5e-4, 600 meta-iterations) with a set encoder whose embedding of the
# K shots conditions G and D. Generation needs no adaptation step
# (test_cfg.steps=0); the visualisation hook shows adapted generations.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_cond-ln-dcgan_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py',
    '../_base_/feature_nets/glyphs_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}
model = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
    encoder=dict(base_channels=16),
    inner_loop=dict(steps=5))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)),
    encoder=dict(optimizer=dict(lr=5e-4)))
train_dataloader = dict(batch_size=4)

train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=200,
        num_classes=4,
        num_samples=8),
]
