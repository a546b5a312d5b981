# The loaders every data set base fills in with its class data set: the
# training loader yields meta-batches of tasks of the seen classes
# (EpisodicSampler, K images of one class per task, split_part='train'), the
# test loader the fixed K-shot sets of the unseen classes. It inherits the
# shared runtime, hooks and loops.
_base_ = ['../default_runtime.py']

train_dataloader = dict(
    batch_size=8,  # tasks per rank and meta-iteration
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='EpisodicSampler'),
    collate_fn=dict(type='episodic_collate'),
    dataset=dict(
        type='EpisodicDataset',
        k_shot=4,
        num_query=0,
        seed=0,
        # the data set base's class data set (its seen classes)
        dataset=dict(split_part='train')))

test_dataloader = dict(
    batch_size=4,  # classes per step
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episodic_collate'))

# Fixed K-shot conditioning sets of the unseen classes (LoFGAN protocol);
# the data set base adds its class data set and tests on them.
unseen_fewshot_dataset = dict(
    type='EpisodicDataset', mode='eval', k_shot=4, seed=0)
