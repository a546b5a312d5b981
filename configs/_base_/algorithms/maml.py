# MAML (DAWSON-style) meta-GAN: support = the first num_support images of a
# task, query = the rest (the data set's k_shot and num_query); 5 inner SGD
# steps (lr 1e-2) on the support set, the outer loss on the query set,
# second order unless first_order=True; outer Adam (meta-adam.py).
_base_ = ['./meta-adam.py']
model = dict(
    type='MAMLGAN',
    num_support=4,
    first_order=False,
    separate_disc_adaptation=False,
    inner_loop=dict(
        steps=5,
        g_lr=1e-2,
        d_lr=1e-2,
        optimizer='sgd',
        loss='wgan-gp',
        gp_weight=10.0,
        # True: keep only each inner step's inputs and recompute the step in
        # the outer backward (second order in less memory, slower; README)
        grad_checkpoint=False,
        batching=dict(mode='auto', chunk='auto')),
    max_failed_fraction=0.5)
