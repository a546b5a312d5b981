# Conditioned MAML on Omniglot 32x32 (4 alphabets seen, Tagalog and
# Early_Aramaic unseen), 4 support + 4 query images per task, meta-batch 8.
# A set encoder (mean over the K support shots) embeds the support set into
# the generator's condition ([E(support), z]); the outer losses score
# generations conditioned on the adapted encoder's embedding of the support
# set against the query images, so the encoder learns to carry the class.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/maml.py', '../_base_/nets/cond-g-ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(recon_weight=1.0))
optim_wrapper = dict(
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
train_dataloader = dict(dataset=dict(num_query=4))
train_cfg = dict(max_iters=50000)
