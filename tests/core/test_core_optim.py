"""The multi-tensor inner Adam equals the reference formula, in place
safely."""
import torch

import metagan_mm.core.optim as optim


def test_foreach_adam_matches_reference_and_never_touches_inputs(monkeypatch):
    torch.manual_seed(0)
    meta = {f'w{i}': torch.randn(3, 5) for i in range(4)}
    kept = {k: v.clone() for k, v in meta.items()}
    fast, ref = dict(meta), dict(meta)
    fast_state, ref_state = optim.AdamState(), optim.AdamState()
    for _ in range(4):
        grads = {k: torch.randn(3, 5) for k in meta}
        rates = {k: 1e-2 for k in meta}
        assert optim._foreach_ok(fast, grads, rates)
        fast, fast_state = optim.adam_update(fast, grads, rates, fast_state,
                                             (0.5, 0.9), 1e-8)
        with monkeypatch.context() as m:
            m.setattr(optim, '_foreach_ok', lambda *args: False)
            ref, ref_state = optim.adam_update(ref, grads, rates, ref_state,
                                               (0.5, 0.9), 1e-8)
        for k in meta:
            torch.testing.assert_close(fast[k], ref[k], rtol=0, atol=1e-6)
            torch.testing.assert_close(
                fast_state.v[k], ref_state.v[k], rtol=0, atol=1e-7)
    for k in meta:  # the caller's (meta-)weights are never updated in place
        assert torch.equal(meta[k], kept[k])
    assert fast_state.step == 4


def test_foreach_path_is_not_used_under_autograd():
    p = {'w': torch.ones(2, requires_grad=True)}
    g = {'w': torch.ones(2)}
    assert not optim._foreach_ok(p, g, {'w': 0.1})
    assert not optim._foreach_ok({'w': torch.ones(2)}, g,
                                 {'w': torch.tensor(0.1)})
