# Meta-learned fusion: Reptile on the local-fusion nets (glyphs, CPU
# size). Each task adapts copies of G and D for 5 inner steps with the
# fusion objective (LoFGAN's losses, the task's class as the seen-class
# label), then the meta-weights move towards the adapted ones. At test
# time the nets adapt on the K shots of an unseen class (test_cfg.steps)
# without the class terms. Not measured yet (docs/user_guides/fusion.md).
_base_ = ['./fusion_local-fusion-small_1xb8-3kiters_glyphs-32x32.py']

model = dict(
    algorithm=dict(_delete_=True, type='Reptile'),
    inner_loop=dict(steps=5, g_lr=1e-4, d_lr=1e-4),
    fewshot_steps=5)
# Reptile's outer step: SGD-like Adam on theta - mean(theta_t)
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=1e-3, weight_decay=0)),
    discriminator=dict(optimizer=dict(lr=1e-3, weight_decay=0)))
train_dataloader = dict(batch_size=4)
train_cfg = dict(type='MetaIterBasedTrainLoop', max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
custom_hooks = [
    dict(
        type='FewShotVisualizationHook',
        dataset={{_base_.unseen_fewshot_dataset}},
        interval=200,
        num_classes=4,
        num_samples=8,
        steps=5),
]
test_cfg = dict(steps=5)
