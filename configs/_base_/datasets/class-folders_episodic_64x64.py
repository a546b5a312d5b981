# Your own classes as image folders, read in colour (RGB) and resized to
# 64x64: <root>/<class>/*.{png,jpg,jpeg,bmp} (nested=True for
# <root>/<group>/<class>/*). The root is $METAGAN_CLASS_FOLDERS (default
# data/class_folders). A seeded 80/20 class split: the seen classes
# meta-train, the unseen ones are the few-shot test.
class_folders_root = '{{$METAGAN_CLASS_FOLDERS:data/class_folders}}'
class_folders_split = dict(fractions=(0.8, 0.0, 0.2), seed=0)
class_folders_pipeline = [
    dict(
        type='LoadImageFromFile',
        key='img',
        color_type='color',
        channel_order='rgb'),
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
            type='ClassFolderDataset',
            data_root=class_folders_root,
            nested=False,
            split=class_folders_split,
            split_part='train',
            pipeline=class_folders_pipeline)))

# Fixed K-shot conditioning sets of the unseen classes (LoFGAN protocol).
unseen_fewshot_dataset = dict(
    type='EpisodicDataset',
    mode='eval',
    k_shot=4,
    seed=0,
    dataset=dict(
        type='ClassFolderDataset',
        data_root=class_folders_root,
        nested=False,
        split=class_folders_split,
        split_part='test',
        pipeline=class_folders_pipeline))

test_dataloader = dict(
    batch_size=4,  # classes per step
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episodic_collate'),
    dataset=unseen_fewshot_dataset)
