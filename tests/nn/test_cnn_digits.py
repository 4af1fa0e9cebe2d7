"""A small convolutional network trained with the engine reaches 97% on scikit-learn's digits."""
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import gradkit as gk
from gradkit import nn
from gradkit.data import batches
from gradkit.optim import adam, apply_updates, cosine_decay_schedule

EPOCHS, BATCH, LEARNING_RATE = 8, 64, 0.01


def test_small_cnn_reaches_97_percent_on_digits_in_under_a_minute():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

    start = time.perf_counter()
    model = nn.Sequential([
        nn.Conv2d(16, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Conv2d(32, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(10),
    ])
    rng = np.random.default_rng(0)
    params, state = model.init(rng, (1, 8, 8), dtype=np.float32)
    steps = EPOCHS * -(-len(y_train) // BATCH)
    optimizer = adam(cosine_decay_schedule(LEARNING_RATE, steps))
    opt_state = optimizer.init(params)

    def loss(params, state, xb, yb, rng):
        logits, new_state = model.apply(params, state, xb, train=True, rng=rng)
        return nn.losses.cross_entropy(logits, yb), new_state

    loss_and_grad = gk.value_and_grad(loss, has_aux=True)
    # the matrices are small: one BLAS thread avoids oversubscribing the two cores
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(EPOCHS):
            for xb, yb in batches(X_train, y_train, BATCH, rng=rng):
                (value, state), grads = loss_and_grad(params, state, xb, yb, rng)
                updates, opt_state = optimizer.update(grads, opt_state, params)
                params = apply_updates(params, updates)
        logits, _ = model.apply(params, state, X_test)  # eval mode: running statistics
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    print(f"\nCNN on digits: {accuracy:.2%} held-out accuracy, {EPOCHS} epochs in {seconds:.1f} s")

    assert logits.dtype == np.float32
    assert np.isfinite(value)
    assert accuracy >= 0.97
    assert seconds < 60.0
