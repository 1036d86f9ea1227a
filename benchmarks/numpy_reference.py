"""The lab's training written in plain NumPy: the lower bound the Keras training is compared with.

Same network and training as the lab's ``model.fit(X, y, epochs=40)``: 400 -> 25 (ReLU) -> 15
(ReLU) -> 10 (linear) Dense layers, Glorot-uniform weights and zero biases, softmax
cross-entropy computed from the logits, Adam with Keras's defaults (learning rate 0.001,
beta_1 0.9, beta_2 0.999, epsilon 1e-7), mini-batches of 32 (the last one of each epoch holds the
remainder), the examples shuffled again every epoch. Everything is float32. It does not reproduce
Keras's random numbers, so its weights differ from the lab's; its losses and error counts come
out close to them.

It is written to be fast, so that the comparison is fair to Keras: every buffer is allocated
once, the operations write into them in place (each batch's rows are gathered into a fixed
buffer), the losses are summed once per epoch, and the parameters and their gradients live in one
flat vector each, so that Adam updates all six of them with a dozen array operations.

Run:  python benchmarks/numpy_reference.py          (train once, print time, loss and errors)
      python benchmarks/numpy_reference.py --check  (replay 6 steps in Keras: same weights?)
"""
import sys
import time
from pathlib import Path

import numpy as np

LAYER_SIZES = (400, 25, 15, 10)


class Network:
    """Weights and biases of the three Dense layers, as views into one flat float32 vector."""

    def __init__(self, rng, sizes=LAYER_SIZES):
        shapes = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            shapes += [(n_in, n_out), (n_out,)]
        self.flat = np.zeros(sum(int(np.prod(s)) for s in shapes), dtype=np.float32)
        self.grad_flat = np.zeros_like(self.flat)
        self.params = _views(self.flat, shapes)   # [W1, b1, W2, b2, W3, b3]
        self.grads = _views(self.grad_flat, shapes)
        for W in self.params[0::2]:              # Glorot (Xavier) uniform, as Keras's Dense
            limit = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
            W[...] = rng.uniform(-limit, limit, size=W.shape)

    def logits(self, X):
        """Forward pass for any number of examples (not the training fast path)."""
        W1, b1, W2, b2, W3, b3 = self.params
        a1 = np.maximum(X @ W1 + b1, 0)
        a2 = np.maximum(a1 @ W2 + b2, 0)
        return a2 @ W3 + b3


def _views(flat, shapes):
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


class _Buffers:
    """The activations and their gradients for one batch size, allocated once."""

    def __init__(self, batch, sizes=LAYER_SIZES):
        f32 = np.float32
        self.x = np.empty((batch, sizes[0]), f32)
        self.y = np.empty(batch, np.intp)
        self.a1 = np.empty((batch, sizes[1]), f32)
        self.a2 = np.empty((batch, sizes[2]), f32)
        self.z3 = np.empty((batch, sizes[3]), f32)
        self.m1 = np.empty((batch, sizes[1]), bool)
        self.m2 = np.empty((batch, sizes[2]), bool)
        self.d1 = np.empty((batch, sizes[1]), f32)
        self.d2 = np.empty((batch, sizes[2]), f32)
        self.zmax = np.empty((batch, 1), f32)
        self.zsum = np.empty((batch, 1), f32)
        self.rows = np.arange(batch)


def train(X, y, epochs=40, batch_size=32, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
          epsilon=1e-7, seed=1234):
    """Train the lab's network with Adam on (X, y).

    Args:
      X (ndarray (m, 400)): the images, converted to float32 once.
      y (ndarray (m,) or (m, 1)): the digits 0-9.
    Returns:
      net (Network): the trained weights.
      losses (list of float): the mean training loss of each epoch, as Keras's ``history``
        reports it: the loss of each example when its batch was trained, averaged.
    """
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(np.ravel(y), dtype=np.intp)
    m = len(X)
    net = Network(rng)
    W1, b1, W2, b2, W3, b3 = net.params
    gW1, gb1, gW2, gb2, gW3, gb3 = net.grads

    buffers = {}
    for start in range(0, m, batch_size):
        size = min(batch_size, m - start)
        if size not in buffers:
            buffers[size] = _Buffers(size)

    adam_m = np.zeros_like(net.flat)
    adam_v = np.zeros_like(net.flat)
    tmp = np.empty_like(net.flat)
    order = np.empty(m, dtype=np.intp)
    log_sums = np.empty(m, dtype=np.float32)  # per example: log of the softmax denominator
    correct = np.empty(m, dtype=np.float32)   # per example: the shifted logit of its label
    step = 0
    losses = []
    for _ in range(epochs):
        order[:] = rng.permutation(m)
        for start in range(0, m, batch_size):
            idx = order[start:start + batch_size]
            B = buffers[len(idx)]
            n = len(idx)
            xb = B.x
            np.take(X, idx, axis=0, out=xb)       # gather this batch's rows
            np.take(y, idx, out=B.y)
            yb = B.y

            # forward: ReLU in place; the masks remember where the units were on
            np.matmul(xb, W1, out=B.a1)
            B.a1 += b1
            np.maximum(B.a1, 0, out=B.a1)
            np.greater(B.a1, 0, out=B.m1)
            np.matmul(B.a1, W2, out=B.a2)
            B.a2 += b2
            np.maximum(B.a2, 0, out=B.a2)
            np.greater(B.a2, 0, out=B.m2)
            z = B.z3
            np.matmul(B.a2, W3, out=z)
            z += b3

            # softmax cross-entropy from the logits; z becomes dLoss/dz (mean over the batch)
            np.max(z, axis=1, keepdims=True, out=B.zmax)
            z -= B.zmax
            correct[start:start + n] = z[B.rows, yb]
            np.exp(z, out=z)
            np.sum(z, axis=1, keepdims=True, out=B.zsum)
            np.log(B.zsum[:, 0], out=log_sums[start:start + n])
            z /= B.zsum
            z[B.rows, yb] -= 1.0
            z *= np.float32(1.0 / n)

            # backward
            np.matmul(B.a2.T, z, out=gW3)
            np.sum(z, axis=0, out=gb3)
            np.matmul(z, W3.T, out=B.d2)
            B.d2 *= B.m2
            np.matmul(B.a1.T, B.d2, out=gW2)
            np.sum(B.d2, axis=0, out=gb2)
            np.matmul(B.d2, W2.T, out=B.d1)
            B.d1 *= B.m1
            np.matmul(xb.T, B.d1, out=gW1)
            np.sum(B.d1, axis=0, out=gb1)

            # Adam, as Keras computes it, on all the parameters at once
            step += 1
            alpha = np.float32(learning_rate * np.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step))
            g = net.grad_flat
            np.subtract(g, adam_m, out=tmp)
            tmp *= np.float32(1 - beta_1)
            adam_m += tmp
            np.multiply(g, g, out=tmp)
            tmp -= adam_v
            tmp *= np.float32(1 - beta_2)
            adam_v += tmp
            np.sqrt(adam_v, out=tmp)
            tmp += np.float32(epsilon)
            np.divide(adam_m, tmp, out=tmp)
            tmp *= alpha
            net.flat -= tmp
        losses.append(float(np.sum(log_sums, dtype=np.float64) - np.sum(correct, dtype=np.float64)) / m)
    return net, losses


def mean_loss(net, X, y):
    """Softmax cross-entropy of the whole data set, from the logits (float64)."""
    z = net.logits(np.asarray(X, dtype=np.float32)).astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(z)), np.ravel(y)].mean())


def errors(net, X, y):
    """How many examples the network gets wrong (largest logit is not the label)."""
    return int(np.sum(np.argmax(net.logits(np.asarray(X, dtype=np.float32)), axis=1) != np.ravel(y)))


def check_against_keras(X, y, seed=1234):
    """Largest weight difference between this code and Keras after the same 6 Adam steps.

    Both start from this module's initial weights and see the same mini-batches in the same
    order (40 examples, 3 epochs: a batch of 32 and a partial batch of 8 in each), so only
    float32 rounding should separate them (about 1e-7, against weight changes of about 1e-2).
    """
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    X = np.asarray(X[::97][:40], dtype=np.float32)
    y = np.ravel(y)[::97][:40]
    rng = np.random.default_rng(seed)
    initial = [p.copy() for p in Network(rng).params]
    orders = [rng.permutation(len(X)) for _ in range(3)]   # the orders train() will draw
    net, _ = train(X, y, epochs=3, seed=seed)

    model = keras.Sequential([keras.Input((LAYER_SIZES[0],)),
                              keras.layers.Dense(LAYER_SIZES[1], activation="relu"),
                              keras.layers.Dense(LAYER_SIZES[2], activation="relu"),
                              keras.layers.Dense(LAYER_SIZES[3], activation="linear")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(learning_rate=0.001))
    model.set_weights(initial)
    for order in orders:
        for start in range(0, len(X), 32):
            batch = order[start:start + 32]
            model.train_on_batch(X[batch], y[batch])
    difference = max(float(np.abs(k - n).max()) for k, n in zip(model.get_weights(), net.params))
    change = max(float(np.abs(n - i).max()) for n, i in zip(net.params, initial))
    return difference, change


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from autils import load_data

    X, y = load_data()
    if "--check" in sys.argv[1:]:
        difference, change = check_against_keras(X, y)
        print(f"after the same 6 Adam steps: largest weight difference NumPy vs Keras "
              f"{difference:.1e} (largest weight change {change:.1e})")
        return
    start = time.perf_counter()
    net, losses = train(X, y)
    seconds = time.perf_counter() - start
    print(f"plain NumPy training, 40 epochs, batch 32: {seconds:.2f} s")
    print(f"loss after epoch 1: {losses[0]:.4f}, after epoch 40: {losses[-1]:.4f}")
    print(f"loss of the trained network on all {len(X)} images: {mean_loss(net, X, y):.4f}")
    print(f"errors: {errors(net, X, y)} out of {len(X)}")


if __name__ == "__main__":
    main()
