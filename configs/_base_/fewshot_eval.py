# Few-shot test loop: for every unseen class, adapt a copy of the meta-model
# to its K conditioning images, generate num_samples images, and measure them
# against the class's real reference images. `fewshot_metrics` comes from a
# configs/_base_/feature_nets/ file listed next to this one in _base_.
test_cfg = dict(type='FewShotTestLoop', num_samples=64, seed=0)
