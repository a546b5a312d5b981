# FAML's algorithm on this project's smaller networks, Omniglot 32x32: a set
# encoder keeping one embedding per image (pooling='none'), the LayerNorm
# DCGAN generator on [E(x_i), z], the unconditional LayerNorm DCGAN
# discriminator (batches under vmap, unlike FAML's spectrally normalised
# one); FAML's inner losses (RaGAN, mode seeking, L1), 10 inner steps,
# meta-batch 8 as the other Omniglot configs.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = ['./faml_faml-nets_1xb1-100kiters_omniglot-32x32.py']
model = dict(
    generator=dict(
        _delete_=True,
        type='ConcatConditionDCGANGenerator',
        noise_size=100,
        condition_size=128,
        out_scale=32,
        out_channels=1),
    discriminator=dict(
        _delete_=True,
        type='FIGRDCGANDiscriminator',
        in_scale=32,
        in_channels=1),
    encoder=dict(
        _delete_=True,
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        embed_size=128,
        pooling='none'),
    inner_loop=dict(g_lr=1e-3, d_lr=1e-3))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=1e-4)),
    discriminator=dict(optimizer=dict(lr=1e-4)),
    encoder=dict(optimizer=dict(lr=1e-4)))
train_dataloader = dict(batch_size=8)
