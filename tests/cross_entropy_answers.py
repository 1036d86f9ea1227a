"""A catalogue of answers to the optional challenge cross_entropy_from_logits(z, y) that keeps
test_cross_entropy_from_logits honest.

CORRECT: (id, function) pairs the check must accept.
WRONG: (id, function, hint) triples the check must report as failed, its message containing
``hint``, the words that tell the student about that very mistake.
"""
import math

import numpy as np


def log_sum_exp(z, y):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) - z[y]


def with_scipy(z, y):
    from scipy.special import logsumexp
    return logsumexp(z) - z[y]


def with_logaddexp(z, y):
    return np.logaddexp.reduce(np.asarray(z, dtype=np.float64)) - z[y]


def stable_log_softmax(z, y):
    shifted = z - np.max(z)
    log_a = shifted - np.log(np.sum(np.exp(shifted)))
    return -log_a[y]


def loops_with_math(z, y):
    m = max(float(value) for value in z)
    total = 0.0
    for value in z:
        total += math.exp(float(value) - m)
    return m + math.log(total) - float(z[y])


def python_float(z, y):
    return float(log_sum_exp(z, y))


CORRECT = [
    ("log_sum_exp", log_sum_exp),
    ("scipy_logsumexp", with_scipy),
    ("np_logaddexp_reduce", with_logaddexp),
    ("stable_log_softmax", stable_log_softmax),
    ("loops_with_math", loops_with_math),
    ("python_float", python_float),
]


def naive_log_sum_exp(z, y):
    return np.log(np.sum(np.exp(z))) - z[y]


def through_probabilities(z, y):
    a = np.exp(z) / np.sum(np.exp(z))
    return -np.log(a[y])


def max_not_added_back(z, y):
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) - z[y]


def wrong_sign(z, y):
    return -log_sum_exp(z, y)


def log10(z, y):
    m = np.max(z)
    a = np.exp(z - m) / np.sum(np.exp(z - m))
    return -np.log10(a[y])


def probability_itself(z, y):
    m = np.max(z)
    return (np.exp(z - m) / np.sum(np.exp(z - m)))[y]


def one_minus_probability(z, y):
    return 1.0 - probability_itself(z, y)


def next_class(z, y):
    return log_sum_exp(z, (y + 1) % len(z))


def largest_logit_subtracted(z, y):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) - m


def forgot_the_true_logit(z, y):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def every_class(z, y):
    shifted = z - np.max(z)
    return -(shifted - np.log(np.sum(np.exp(shifted))))


def returns_none(z, y):
    log_sum_exp(z, y)


def changes_z(z, y):
    z -= np.max(z)
    return np.log(np.sum(np.exp(z))) - z[y]


def tensorflow_loss(z, y):
    import keras
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([y]),
                                                                      np.reshape(z, (1, -1)))


def right_values_wrong_slopes(z, y):
    """Right at every example the check tries, wrong anywhere near them: only the slopes (the
    check nudges each z[j]) can tell."""
    import public_tests

    exact = log_sum_exp(z, y)
    tried = any(np.array_equal(z, example) and y == label
                for example, label in public_tests._cross_entropy_examples())
    return exact if tried else exact + 5.0 * (z[0] - np.round(z[0]))


def rounded(z, y):
    return round(float(log_sum_exp(z, y)), 1)


WRONG = [
    ("naive_log_sum_exp", naive_log_sum_exp, "m = np.max(z)"),
    ("through_probabilities", through_probabilities, "a_y can round to 0"),
    ("max_not_added_back", max_not_added_back, "did not add it back"),
    ("wrong_sign", wrong_sign, "MINUS ln a_y"),
    ("log10", log10, "natural logarithm"),
    ("probability_itself", probability_itself, "that is the probability a_y"),
    ("one_minus_probability", one_minus_probability, "not 1 - a_y"),
    ("next_class", next_class, "use z[y], the logit of the true class"),
    ("largest_logit_subtracted", largest_logit_subtracted, "the logit of the TRUE class"),
    ("forgot_the_true_logit", forgot_the_true_logit, "forgot to subtract z[y]"),
    ("every_class", every_class, "one number"),
    ("returns_none", returns_none, "return loss"),
    ("changes_z", changes_z, "changed the array z"),
    ("tensorflow_loss", tensorflow_loss, "tensor"),
    ("rounded", rounded, "wrong loss"),
    ("right_values_wrong_slopes", right_values_wrong_slopes, "Expected TensorFlow's gradient"),
]
