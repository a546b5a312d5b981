# FAML (Phaphuangwittayakul et al., IEEE TMM 2021): Reptile over an encoder,
# a conditioned generator and a discriminator; the inner loop adapts D, then
# G and E together with RaGAN + mode seeking + L1 reconstruction. FAMLGAN
# holds FAML's inner-loop settings (metagan_mm.models.faml_gan
# .FAML_INNER_LOOP: 10 steps of 2 D updates and one G+E update, Adam 2e-4,
# betas (0.5, 0.999)); model.inner_loop overrides them key by key. FAML's
# outer Adam: lr 1e-5, betas (0.5, 0.999), on G, D and E.
model = dict(type='FAMLGAN')
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))),
    encoder=dict(optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))))
