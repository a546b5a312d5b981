# Plain local-fusion GAN on the embedded glyph set (no download): the
# quick-start candidate. Nets at a CPU size (generator base_channels=16,
# discriminator 16), 8 tasks of 4 shots per iteration, 3000 iterations
# (about 15 minutes on one core of a shared 2-core machine). Writes
# checkpoints and samples/fewshot_iter_*.png grids (the K shots | fusions)
# of unseen glyph classes; no adaptation step.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/fusion_local-fusion_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py',
    '../_base_/feature_nets/glyphs_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
test_evaluator = {{_base_.fewshot_metrics}}

model = dict(
    generator=dict(base_channels=16),
    # 76 seen glyph classes (the seeded 80/20 class split)
    discriminator=dict(base_channels=16, num_classes=76))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)))

train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=3000)
default_hooks = dict(checkpoint=dict(interval=500))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=500,
        num_classes=4,
        num_samples=8,
        steps=0),
]
test_cfg = dict(steps=0)
