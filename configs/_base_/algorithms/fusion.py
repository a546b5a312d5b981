# Plain local-fusion GAN training (the LoFGAN baseline): FusionGAN takes one
# D and one G step per iteration on the tasks of a meta-batch (core.Pooled)
# with LoFGAN's losses and weights (hinge, class cross-entropy 1.0, local
# reconstruction 0.5, R1 on the true-class logit) and optimiser (Adam 1e-4,
# weight decay 1e-4, PyTorch's default betas). The D and G gradients are
# taken at the same weights (LoFGAN steps D first);
# docs/user_guides/fusion.md lists every deviation. Needs the local-fusion
# nets (configs/_base_/nets/local-fusion*.py).
model = dict(
    type='FusionGAN',
    algorithm=dict(type='Pooled'),
    objective=dict(
        type='FusionObjective', adv=1.0, cls=1.0, recon=0.5, r1=0.02),
    # few-shot adaptation on the K shots, when asked for (test_cfg.steps,
    # tools/generate.py --steps): Adam 1e-4, LoFGAN's rate and betas
    inner_loop=dict(
        steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        optimizer='adam',
        betas=(0.9, 0.999),
        loss='hinge'),
    fewshot_steps=0)

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4)),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4)))
