# Meta-SGD (Li et al., 2017): MAML plus meta-learned per-parameter inner
# learning rates (initialised at inner_loop.g_lr / d_lr, clamped at min_lr,
# stepped by optim_wrapper.inner_rates).
_base_ = ['./maml.py']
model = dict(type='MetaSGDGAN', per_parameter=True, min_lr=0.0)
optim_wrapper = dict(
    inner_rates=dict(optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.9))))
