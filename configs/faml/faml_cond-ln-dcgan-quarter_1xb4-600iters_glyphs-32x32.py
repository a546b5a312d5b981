# FAML's algorithm on the embedded glyph data set (no download), CPU-sized:
# faml_cond-ln-dcgan_1xb8-100kiters_omniglot-32x32.py's networks at quarter
# width, 5 inner steps, 4 tasks, outer Adam 5e-4, 600 meta-iterations.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/faml_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py',
    '../_base_/feature_nets/glyphs_domain_32x32.py',
    '../_base_/fewshot_eval.py',
]
# a plain list builds mmengine's Evaluator (mmagic's 'Evaluator' has another API)
test_evaluator = {{_base_.fewshot_metrics}}
model = dict(
    generator=dict(
        _delete_=True,
        type='ConcatConditionDCGANGenerator',
        noise_size=100,
        condition_size=128,
        out_scale=32,
        out_channels=1,
        base_channels=16),
    discriminator=dict(
        _delete_=True,
        type='FIGRDCGANDiscriminator',
        in_scale=32,
        in_channels=1,
        base_channels=16),
    encoder=dict(
        _delete_=True,
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        embed_size=128,
        pooling='none',
        base_channels=16),
    inner_loop=dict(steps=5, g_lr=1e-3, d_lr=1e-3))
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
