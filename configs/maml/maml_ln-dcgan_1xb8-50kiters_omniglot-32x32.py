# MAML meta-GAN on Omniglot 32x32 (4 alphabets seen, Tagalog and
# Early_Aramaic unseen), 4 support + 4 query images per task, meta-batch 8.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/maml.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
train_dataloader = dict(dataset=dict(num_query=4))
train_cfg = dict(max_iters=50000)
