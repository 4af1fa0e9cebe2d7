r"""
REINFORCE on a cart-pole written in NumPy
=========================================

REINFORCE (the policy gradient) balances a pole on a cart, in a NumPy environment.

The cart-pole of Barto, Sutton & Anderson (1983) is written here in NumPy (Euler steps of its
equations of motion, 16 carts at once): push the cart left or right to keep the pole within
12 degrees of upright and the cart on the track; the reward is 1 per step, up to 200 steps.
The policy is a small network, ``pi(a | s) = softmax(MLP(s))``. REINFORCE (Williams, 1992)
ascends the gradient of the expected return,

.. math::

    \nabla J = \mathbb{E}\Big[\sum_t \nabla \log \pi(a_t \mid s_t)\,(G_t - b_t)\Big],

where ``G_t`` is the discounted return from step ``t`` and ``b_t`` a baseline (the mean
return-to-go at step ``t`` over the batch), which lowers the variance without changing the
expectation; the advantages ``G_t - b_t`` are then scaled to unit standard deviation, which
only sets the step size. The sampled actions are not differentiated: gradkit differentiates
``sum log pi(a_t | s_t) * advantage_t`` with respect to the policy's parameters, once per
batch of episodes, and Adam takes the step.

It prints the mean episode length every few iterations; averaged over 5 iterations it rises
from under 40 steps (about what a random policy lasts) to above 150. The figure draws the
mean episode length of every iteration, with the range over the 16 episodes.

Run it with::

    python examples/reinforce_cartpole.py [--iterations 60] [--plot cartpole.png]
"""
import argparse

import numpy as np
from matplotlib.figure import Figure

import gradkit as gk
from gradkit import nn
from gradkit.optim import adam, apply_updates

GRAVITY, CART_MASS, POLE_MASS, HALF_LENGTH, FORCE, DT = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
MAX_STEPS, N_ENVS, GAMMA = 200, 16, 0.99


def cartpole_step(state, action):
    """One Euler step of every cart: ``state`` is ``(n, 4)`` = (x, x', theta, theta'),
    ``action`` 0 (push left) or 1 (push right). Returns the new state and which carts failed."""
    x, x_dot, theta, theta_dot = state.T
    force = np.where(action == 1, FORCE, -FORCE)
    cos, sin = np.cos(theta), np.sin(theta)
    total = CART_MASS + POLE_MASS
    temp = (force + POLE_MASS * HALF_LENGTH * theta_dot ** 2 * sin) / total
    theta_acc = (GRAVITY * sin - cos * temp) / (
        HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * cos ** 2 / total))
    x_acc = temp - POLE_MASS * HALF_LENGTH * theta_acc * cos / total
    new = np.stack([x + DT * x_dot, x_dot + DT * x_acc,
                    theta + DT * theta_dot, theta_dot + DT * theta_acc], axis=1)
    failed = (np.abs(new[:, 0]) > 2.4) | (np.abs(new[:, 2]) > 12 * np.pi / 180)
    return new, failed


policy = nn.Sequential([nn.Linear(16), nn.Tanh(), nn.Linear(2)])


def rollout(params, rng):
    """Play ``N_ENVS`` episodes; return the visited states, actions, returns-to-go
    (all ``(T, n)``-shaped, with a mask of the steps that happened) and the lengths."""
    state = rng.uniform(-0.05, 0.05, (N_ENVS, 4))
    alive = np.ones(N_ENVS, bool)
    states, actions, masks = [], [], []
    for _ in range(MAX_STEPS):
        logits = policy.apply(params, {}, state)[0]
        p_right = nn.functional.sigmoid(logits[:, 1] - logits[:, 0])
        action = (rng.random(N_ENVS) < p_right).astype(int)
        states.append(state)
        actions.append(action)
        masks.append(alive.copy())
        state, failed = cartpole_step(state, action)
        alive &= ~failed
        if not alive.any():
            break
    mask = np.array(masks, dtype=float)                      # (T, n): 1 where the step was taken
    returns = np.zeros_like(mask)
    running = np.zeros(N_ENVS)
    for t in range(mask.shape[0] - 1, -1, -1):               # G_t = r_t + gamma G_{t+1}
        running = mask[t] * (1.0 + GAMMA * running)
        returns[t] = running
    return np.array(states), np.array(actions), returns, mask, mask.sum(axis=0)


def surrogate(params, states, actions, advantages, mask):
    """``-mean_t,n log pi(a | s) * advantage``: its gradient is minus REINFORCE's estimate."""
    logp = nn.functional.log_softmax(policy.apply(params, {}, states)[0], axis=-1)
    chosen = np.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]
    return -np.sum(chosen * advantages * mask) / np.sum(mask)


def plot_lengths(lengths):
    """Mean episode length per iteration, the range over the batch's episodes shaded."""
    lengths = np.asarray(lengths)  # (iterations, N_ENVS)
    it = np.arange(len(lengths))
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.fill_between(it, lengths.min(axis=1), lengths.max(axis=1), color="tab:blue", alpha=0.2,
                    label=f"shortest to longest of the {N_ENVS} episodes")
    ax.plot(it, lengths.mean(axis=1), color="tab:blue", linewidth=2, label="mean")
    ax.axhline(MAX_STEPS, color="gray", linestyle="--", linewidth=1,
               label=f"the most an episode lasts ({MAX_STEPS} steps)")
    ax.set(xlabel="iteration (one batch of episodes, one Adam step)",
           ylabel="episode length (steps balanced)", ylim=(0, MAX_STEPS * 1.05),
           title="REINFORCE on the cart-pole: how long the pole stays up")
    fig.legend(loc="outside lower center", ncol=3, fontsize="small")
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--plot", help="save the figure to this PNG file")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    params, _ = policy.init(rng, (4,))
    grad = gk.grad(surrogate)
    tx = adam(0.02)
    opt_state = tx.init(params)
    lengths = []
    for it in range(args.iterations):
        states, actions, returns, mask, length = rollout(params, rng)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        baseline = (returns * mask).sum(axis=1, keepdims=True) / counts  # per step t
        advantages = (returns - baseline) * mask
        advantages /= advantages[mask > 0].std() + 1e-8
        grads = grad(params, states, actions, advantages, mask)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = apply_updates(params, updates)
        lengths.append(length)
        if it % 10 == 0 or it == args.iterations - 1:
            print(f"iteration {it:3d}  mean episode length {length.mean():6.1f}")
    means = np.mean(lengths, axis=1)
    first, last = np.mean(means[:5]), np.mean(means[-5:])
    print(f"mean episode length: first 5 iterations {first:.1f}, last 5 {last:.1f} "
          f"(of at most {MAX_STEPS})")
    figure = plot_lengths(lengths)
    if args.plot:
        figure.savefig(args.plot)
        print("figure saved to", args.plot)
    return {"first": float(first), "last": float(last), "figure": figure}


if __name__ == "__main__":
    figure = main()["figure"]  # the documentation's gallery shows this figure
