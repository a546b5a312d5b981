# Omniglot at 32x32 (FIGR's setting), read in the data set's own layout
# (images_background/<Alphabet>/<character>/*.png). Meta-train on four
# alphabets, keep Tagalog and Early_Aramaic unseen. The root is
# $METAGAN_OMNIGLOT (default data/omniglot). For the full data set,
# list the 30 background alphabets under `train` and use images_evaluation.
omniglot_root = '{{$METAGAN_OMNIGLOT:data/omniglot}}'
omniglot_split = dict(
    train=['Balinese', 'Greek', 'Japanese_(katakana)', 'Latin'],
    test=['Tagalog', 'Early_Aramaic'])
omniglot_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
    dict(type='Resize', keys='img', scale=(32, 32), interpolation='area'),
    dict(type='PackInputs', keys='img', data_keys=[]),
]

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
        dataset=dict(
            type='OmniglotDataset',
            data_root=omniglot_root,
            split=omniglot_split,
            split_part='train',
            pipeline=omniglot_pipeline)))

unseen_fewshot_dataset = dict(
    type='EpisodicDataset',
    mode='eval',
    k_shot=4,
    seed=0,
    dataset=dict(
        type='OmniglotDataset',
        data_root=omniglot_root,
        split=omniglot_split,
        split_part='test',
        pipeline=omniglot_pipeline))

# Few-shot evaluation over the unseen alphabets (LoFGAN protocol).
test_dataloader = dict(
    batch_size=4,  # classes per step
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episodic_collate'),
    dataset=unseen_fewshot_dataset)
