# The embedded glyph data set (rendered from matplotlib's fonts, no download):
# 95 characters are the classes, fonts x small distortions the instances.
# A seeded 80/20 class split: 76 seen (meta-training) and 19 unseen classes.
_base_ = ['./episodic.py', '../feature_nets/glyphs_domain_32x32.py']
glyph_split = dict(fractions=(0.8, 0.0, 0.2), seed=0)
glyph_pipeline = [dict(type='PackInputs', keys=['img'], data_keys=[])]
glyph_classes = dict(
    type='GlyphDataset',
    img_size=32,
    images_per_class=20,
    split=glyph_split,
    pipeline=glyph_pipeline)

train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(dataset=glyph_classes))

unseen_fewshot_dataset = dict(
    _base_.unseen_fewshot_dataset,
    dataset=dict(glyph_classes, split_part='test'))

# Few-shot evaluation over the unseen classes: tools/test.py adapts to each
# class's K images, generates and measures (glyphs_domain_32x32.py's
# test_evaluator).
test_dataloader = dict(dataset=unseen_fewshot_dataset)
custom_hooks = [
    dict(_base_.custom_hooks[0], dataset=unseen_fewshot_dataset, interval=200)
]
