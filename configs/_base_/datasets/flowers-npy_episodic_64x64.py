# LoFGAN's Oxford flowers array (flower_c8189_s128_data_rgb.npy: uint8
# [classes, images, 128, 128, 3], RGB), resized to 64x64, with LoFGAN's
# protocol: the first 85 classes meta-train, the other 17 are the unseen
# few-shot test. The folder is $METAGAN_LOFGAN (default data/lofgan); any
# array of that layout works (set npy_file and split.first_n).
flowers_root = '{{$METAGAN_LOFGAN:data/lofgan}}'
flowers_npy = 'flower_c8189_s128_data_rgb.npy'
flowers_split = dict(first_n=85)
flowers_pipeline = [
    dict(type='Resize', keys='img', scale=(64, 64), interpolation='area'),
    dict(type='PackInputs', keys='img', data_keys=[]),
]

train_dataloader = dict(
    batch_size=4,  # tasks per rank and meta-iteration
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
            type='NpyClassDataset',
            data_root=flowers_root,
            npy_file=flowers_npy,
            split=flowers_split,
            split_part='train',
            pipeline=flowers_pipeline)))

# Fixed K-shot conditioning sets of the unseen classes (LoFGAN protocol).
unseen_fewshot_dataset = dict(
    type='EpisodicDataset',
    mode='eval',
    k_shot=4,
    seed=0,
    dataset=dict(
        type='NpyClassDataset',
        data_root=flowers_root,
        npy_file=flowers_npy,
        split=flowers_split,
        split_part='test',
        pipeline=flowers_pipeline))

test_dataloader = dict(
    batch_size=4,  # classes per step
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episodic_collate'),
    dataset=unseen_fewshot_dataset)
