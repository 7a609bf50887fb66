"""helpers.training: the one optimisation step every hand-written loop shares."""
import pytest
import torch

from helpers.training import optimizer_step


def _setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    return model, x, y


def test_optimizer_step_equals_the_manual_steps():
    model_a, x, y = _setup()
    model_b, _, _ = _setup()
    opt_a = torch.optim.SGD(model_a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(model_b.parameters(), lr=0.1)
    sched_a = torch.optim.lr_scheduler.StepLR(opt_a, step_size=1, gamma=0.5)
    sched_b = torch.optim.lr_scheduler.StepLR(opt_b, step_size=1, gamma=0.5)
    for _ in range(3):
        loss_a = torch.nn.functional.mse_loss(model_a(x), y) * 100  # large, so clipping bites
        value = optimizer_step(model_a, loss_a, opt_a, sched_a, max_grad_norm=0.5)
        loss_b = torch.nn.functional.mse_loss(model_b(x), y) * 100
        loss_b.backward()
        torch.nn.utils.clip_grad_norm_(model_b.parameters(), 0.5)
        opt_b.step()
        sched_b.step()
        opt_b.zero_grad(set_to_none=True)
        assert value == pytest.approx(float(loss_b.detach()))
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(a, b)
        assert a.grad is None  # cleared for the next step
    assert opt_a.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)


def test_no_clipping_when_max_grad_norm_is_none():
    model_a, x, y = _setup()
    model_b, _, _ = _setup()
    opt_a = torch.optim.SGD(model_a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(model_b.parameters(), lr=0.1)
    optimizer_step(model_a, torch.nn.functional.mse_loss(model_a(x), y) * 100, opt_a, max_grad_norm=None)
    (torch.nn.functional.mse_loss(model_b(x), y) * 100).backward()
    opt_b.step()
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(a, b)


def test_a_loss_that_is_not_one_number_is_refused_with_a_fix():
    model, x, y = _setup()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="loss.mean"):
        optimizer_step(model, (model(x) - y) ** 2, opt)
    with pytest.raises(ValueError, match="one-element tensor"):
        optimizer_step(model, 1.0, opt)
