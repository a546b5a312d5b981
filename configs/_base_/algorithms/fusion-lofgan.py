# LoFGAN's full training recipe: fusion.py (its losses, weights and Adam)
# plus its learning-rate schedule, a linear decay to 0 over the second half
# of 100k iterations. The data set base or the leaf sets
# train_cfg.max_iters=100000 to match.
_base_ = ['./fusion.py']
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        begin=50000,
        end=100000,
        by_epoch=False)
]
