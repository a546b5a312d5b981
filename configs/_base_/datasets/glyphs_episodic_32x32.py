# The embedded glyph data set (rendered from matplotlib's fonts, no download):
# 95 characters are the classes, fonts x small distortions the instances.
# A seeded 80/20 class split: 76 seen (meta-training) and 19 unseen classes.
glyph_split = dict(fractions=(0.8, 0.0, 0.2), seed=0)
glyph_pipeline = [dict(type='PackInputs', keys=['img'], data_keys=[])]

train_dataloader = dict(
    batch_size=8,  # tasks per rank and meta-iteration
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='EpisodicSampler'),
    collate_fn=dict(type='episodic_collate'),
    dataset=dict(
        type='EpisodicDataset',
        k_shot=4,
        num_query=0,
        seed=0,
        dataset=dict(
            type='GlyphDataset',
            img_size=32,
            images_per_class=20,
            split=glyph_split,
            split_part='train',
            pipeline=glyph_pipeline)))

# Fixed K-shot conditioning sets of the unseen classes (LoFGAN protocol).
unseen_fewshot_dataset = dict(
    type='EpisodicDataset',
    mode='eval',
    k_shot=4,
    seed=0,
    dataset=dict(
        type='GlyphDataset',
        img_size=32,
        images_per_class=20,
        split=glyph_split,
        split_part='test',
        pipeline=glyph_pipeline))

# Few-shot evaluation over the unseen classes: tools/test.py adapts to each
# class's K images, generates and measures (configs/_base_/fewshot_eval.py).
test_dataloader = dict(
    batch_size=4,  # classes per step
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episodic_collate'),
    dataset=unseen_fewshot_dataset)
