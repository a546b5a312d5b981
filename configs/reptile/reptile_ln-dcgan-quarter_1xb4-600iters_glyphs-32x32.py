# Quick start: a short Reptile meta-GAN run (a DCGAN with channel-wise
# LayerNorm in FIGR's spirit, WGAN-GP, 4 shots)
# on the embedded glyph data set; no download. Writes checkpoints and
# samples/fewshot_iter_*.png grids (support row | adapted generations) for
# unseen glyph classes.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/reptile_ln-dcgan_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py',
    '../_base_/feature_nets/glyphs_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}

# Quick-start budget (a few CPU minutes): these nets at a quarter of the
# width, 5 inner steps instead of 10, 4 tasks per meta-batch, a larger
# outer learning rate. configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py
# has the full width and steps, reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py
# FIGR's own networks and setting.
model = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
    inner_loop=dict(steps=5))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)))
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
