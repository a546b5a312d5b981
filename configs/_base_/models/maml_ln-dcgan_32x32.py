# MAML meta-GAN (DAWSON-style) with the project's FIGR-spirit DCGAN at 32x32, 1 channel:
# the Reptile model config (same nets, preprocessor, outer optimisers) with
# MAML's options. Support = the first 4 images of a task, query = the next 4
# (dataset k_shot and num_query). Inner SGD, 5 steps; second order unless
# first_order=True.
_base_ = ['./reptile_ln-dcgan_32x32.py']
model = dict(
    type='MAMLGAN',
    num_support=4,
    first_order=False,
    separate_disc_adaptation=False,
    inner_loop=dict(
        _delete_=True,
        steps=5,
        g_lr=1e-2,
        d_lr=1e-2,
        optimizer='sgd',
        loss='wgan-gp',
        gp_weight=10.0,
        # True: keep only each inner step's inputs and recompute the step in
        # the outer backward (second order in less memory, slower; README)
        grad_checkpoint=False,
        batching=dict(mode='auto', chunk='auto')))
