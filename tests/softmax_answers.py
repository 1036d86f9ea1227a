"""A catalogue of answers to Exercise 1 (my_softmax) that keeps test_my_softmax honest.

CORRECT: (id, function) pairs the check must accept.
WRONG: (id, function, hint) triples the check must reject with an AssertionError whose message
contains ``hint``, the words that tell the student about that very mistake.
"""
import math

import numpy as np


def plain_formula(z):
    return np.exp(z) / np.sum(np.exp(z))


def exp_sum_method(z):
    ez = np.exp(z)
    return ez / ez.sum()


def builtin_sum(z):
    ez = np.exp(z)
    return ez / sum(ez)


def loops_with_math_exp(z):
    n = len(z)
    total = 0.0
    for k in range(n):
        total += math.exp(z[k])
    a = np.zeros(n)
    for j in range(n):
        a[j] = math.exp(z[j]) / total
    return a


def loops_with_zeros_of_the_shape(z):  # np.zeros makes floats whatever z's dtype
    ez = np.zeros(z.shape)
    for j in range(len(z)):
        ez[j] = np.exp(z[j])
    a = np.zeros(z.shape)
    for j in range(len(z)):
        a[j] = ez[j] / np.sum(ez)
    return a


def zeros_like_of_the_floats(z):  # zeros_like of e^z, which is float even for integer z
    ez = np.exp(z)
    a = np.zeros_like(ez)
    for j in range(len(z)):
        a[j] = ez[j] / np.sum(ez)
    return a


def max_subtracted(z):
    z = z - np.max(z)
    ez = np.exp(z)
    return ez / np.sum(ez)


def max_subtracted_on_a_copy_in_place(z):
    z = z.copy()
    z -= z.max()
    return np.exp(z) / np.exp(z).sum()


def float32_result(z):
    return (np.exp(z) / np.sum(np.exp(z))).astype(np.float32)


def float32_throughout(z):
    z = z.astype(np.float32)
    ez = np.exp(z - np.max(z))
    return ez / np.sum(ez)


def converts_input_to_float(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z) / np.sum(np.exp(z))


def e_to_the_power(z):
    return np.e ** z / np.sum(np.e ** z)


def np_power_of_e(z):
    ez = np.power(np.e, z)
    return ez / ez.sum(axis=0)


def sum_with_keepdims(z):
    ez = np.exp(z)
    return ez / np.sum(ez, axis=-1, keepdims=True)


def list_comprehension_then_array(z):
    ez = np.array([math.exp(value) for value in z])
    return ez / ez.sum()


def log_sum_exp(z):
    return np.exp(z - np.log(np.sum(np.exp(z))))


def divide_into_new_array(z):
    ez = np.exp(z)
    return np.divide(ez, ez.sum(), out=np.empty_like(ez))


def scipy_softmax(z):  # a NumPy array with the right values: the check cannot tell, and accepts
    import scipy.special
    return scipy.special.softmax(z)


def tf_softmax_of_floats_as_numpy(z):  # floats for tf, .numpy() back: accepted
    import tensorflow as tf
    return tf.nn.softmax(np.asarray(z, dtype=np.float64)).numpy()


CORRECT = [(f.__name__, f) for f in (
    plain_formula, exp_sum_method, builtin_sum, loops_with_math_exp,
    loops_with_zeros_of_the_shape, zeros_like_of_the_floats, max_subtracted,
    max_subtracted_on_a_copy_in_place, float32_result, float32_throughout,
    converts_input_to_float, e_to_the_power, np_power_of_e, sum_with_keepdims,
    list_comprehension_then_array, log_sum_exp, divide_into_new_array, scipy_softmax,
    tf_softmax_of_floats_as_numpy)]


# ---- wrong answers ------------------------------------------------------------------------------

def not_normalised(z):
    return np.exp(z)


def divided_by_sum_of_z(z):
    return np.exp(z) / np.sum(z)


def divided_by_max_of_exp(z):
    return np.exp(z) / np.max(np.exp(z))


def divided_by_max_of_z(z):
    return np.exp(z) / np.max(z)


def max_subtracted_but_not_normalised(z):
    return np.exp(z - np.max(z))


def exp_of_the_sum_below(z):
    return np.exp(z) / np.exp(np.sum(z))


def forgot_exp(z):
    return z / np.sum(z)


def exp_of_minus_z(z):
    return np.exp(-z) / np.sum(np.exp(-z))


def exp_of_the_loop_index(z):
    n = len(z)
    a = np.zeros(n)
    total = sum(np.exp(k) for k in range(n))
    for j in range(n):
        a[j] = np.exp(j) / total
    return a


def sigmoid_instead(z):
    return 1 / (1 + np.exp(-z))


def running_sum_in_loop(z):
    a = np.zeros(len(z))
    total = 0.0
    for j in range(len(z)):
        total += np.exp(z[j])
        a[j] = np.exp(z[j]) / total
    return a


def base_2(z):
    return 2 ** z / np.sum(2 ** z)


def base_10(z):
    return 10 ** z / np.sum(10 ** z)


def all_equal(z):
    return np.ones_like(z) / len(z)


def one_hot_argmax(z):
    a = np.zeros(len(z))
    a[np.argmax(z)] = 1.0
    return a


def returns_argmax(z):
    return np.argmax(np.exp(z) / np.sum(np.exp(z)))


def log_softmax(z):
    return z - np.log(np.sum(np.exp(z)))


def forgot_return(z):
    ez = np.exp(z)
    a = ez / np.sum(ez)  # noqa: F841 (the mistake)


def returns_the_sum(z):
    return np.sum(np.exp(z))


def returns_a_list(z):
    total = sum(math.exp(v) for v in z)
    return [math.exp(v) / total for v in z]


def returns_a_tuple(z):
    return tuple(np.exp(z) / np.sum(np.exp(z)))


def returns_tf_tensor(z):
    import tensorflow as tf
    return tf.nn.softmax(z)


def column_vector(z):
    return (np.exp(z) / np.sum(np.exp(z))).reshape(-1, 1)


def row_of_zeros_2d(z):
    a = np.zeros((1, len(z)))
    a[0, :] = np.exp(z) / np.sum(np.exp(z))
    return a


def loop_misses_last_value(z):
    total = np.sum(np.exp(z))
    return np.array([np.exp(z[j]) / total for j in range(len(z) - 1)])


def wrong_axis(z):
    return np.exp(z) / np.sum(np.exp(z), axis=1)


def math_exp_on_array(z):
    return math.exp(z) / sum(math.exp(z))


def loop_forgot_to_accumulate(z):
    total = 0
    for k in range(len(z)):
        total + math.exp(z[k])  # noqa: B018 (the mistake: the sum is never stored)
    return np.array([math.exp(v) / total for v in z])


def numpy_division_by_zero(z):
    total = np.float64(0.0)
    for k in range(len(z)):
        total + np.exp(z[k])  # noqa: B018 (the mistake)
    return np.exp(z) / total


def forgot_np(z):
    return exp(z) / np.sum(exp(z))  # noqa: F821 (the mistake)


def two_indices(z):
    return np.array([np.exp(z[j, 0]) for j in range(len(z))])


def mutates_input(z):
    z -= np.max(z)
    return np.exp(z) / np.sum(np.exp(z))


def exp_in_place(z):
    np.exp(z, out=z)
    return z / np.sum(z)


def integer_result(z):
    a = np.zeros(len(z), dtype=int)
    for j in range(len(z)):
        a[j] = np.exp(z[j]) / np.sum(np.exp(z))
    return a


def float16_result(z):
    return (np.exp(z) / np.sum(np.exp(z))).astype(np.float16)


def sorted_result(z):
    return np.sort(np.exp(z) / np.sum(np.exp(z)))


def divided_by_length(z):
    return np.exp(z) / len(z)


def sum_skips_first_value(z):
    return np.exp(z) / np.sum(np.exp(z[1:]))


def hard_coded_for_the_example(z):
    return np.array([0.0320586, 0.08714432, 0.23688282, 0.64391426])


def truncates_z_to_integers(z):
    z = z.astype(int)
    return np.exp(z) / np.sum(np.exp(z))


def rounds_to_two_decimals(z):
    return np.round(np.exp(z) / np.sum(np.exp(z)), 2)


def loops_with_zeros_like(z):  # an integer array for integer z: every probability becomes 0
    ez = np.zeros_like(z)
    for j in range(len(z)):
        ez[j] = np.exp(z[j])
    a = np.zeros_like(z)
    for j in range(len(z)):
        a[j] = ez[j] / np.sum(ez)
    return a


def tf_softmax_as_numpy(z):  # tf.nn.softmax refuses integers
    import tensorflow as tf
    return tf.nn.softmax(z).numpy()


def float32_unshifted(z):  # e^-300 is 0 in float32: 0 / 0 for z near -300
    ez = np.exp(z.astype(np.float32))
    return ez / np.sum(ez)


def base_2_of_integers(z):  # right for floats, but 2 ** negative integers fails
    return np.exp(z * 1.0) / np.sum(np.exp(z * 1.0)) if z.dtype.kind == "f" else 2 ** z


def shifted_numerator_unshifted_denominator(z):
    return np.exp(z - np.max(z)) / np.sum(np.exp(z))


def shifted_denominator_unshifted_numerator(z):
    return np.exp(z) / np.sum(np.exp(z - np.max(z)))


def not_implemented(z):
    raise NotImplementedError("Exercise 1: write my_softmax")


WRONG = [
    ("not_normalised", not_normalised, "did not divide by the sum of all e^z"),
    ("divided_by_sum_of_z", divided_by_sum_of_z, "you divided by the sum of z"),
    ("divided_by_max_of_exp", divided_by_max_of_exp, "divided e^z by its largest value"),
    ("divided_by_max_of_z", divided_by_max_of_z, "you divided by the largest z"),
    ("max_subtracted_but_not_normalised", max_subtracted_but_not_normalised,
     "divided e^z by its largest value"),
    ("exp_of_the_sum_below", exp_of_the_sum_below, "not e to the power sum(z)"),
    ("forgot_exp", forgot_exp, "you forgot the exponential"),
    ("exp_of_minus_z", exp_of_minus_z, "you used e^(-z)"),
    ("exp_of_the_loop_index", exp_of_the_loop_index, "position j instead of the value z[j]"),
    ("sigmoid_instead", sigmoid_instead, "that is the sigmoid"),
    ("running_sum_in_loop", running_sum_in_loop, "divided by the sum so far"),
    ("base_2", base_2, "not 2**z"),
    ("base_10", base_10, "not 10**z"),
    ("all_equal", all_equal, "every probability is 1/N"),
    ("one_hot_argmax", one_hot_argmax, "like np.argmax"),
    ("returns_argmax", returns_argmax, "np.argmax gives the position of the largest value"),
    ("log_softmax", log_softmax, "logarithm of the probabilities"),
    ("forgot_return", forgot_return, "returned None"),
    ("returns_the_sum", returns_the_sum, "returned a single number"),
    ("returns_a_list", returns_a_list, "returned a Python list"),
    ("returns_a_tuple", returns_a_tuple, "returned a Python tuple"),
    ("returns_tf_tensor", returns_tf_tensor, "instead of calling tf.nn.softmax"),
    ("column_vector", column_vector, "shape (4, 1)"),
    ("row_of_zeros_2d", row_of_zeros_2d, "not np.zeros((N, 1))"),
    ("loop_misses_last_value", loop_misses_last_value, "returned 3 values for 4"),
    ("wrong_axis", wrong_axis, "only axis 0"),
    ("math_exp_on_array", math_exp_on_array, "math.exp works on one number at a time"),
    ("loop_forgot_to_accumulate", loop_forgot_to_accumulate, "raised ZeroDivisionError"),
    ("numpy_division_by_zero", numpy_division_by_zero, "contains nan or inf"),
    ("forgot_np", forgot_np, "raised NameError"),
    ("two_indices", two_indices, "never z[j, 0]"),
    ("mutates_input", mutates_input, "changed the array z it was given"),
    ("exp_in_place", exp_in_place, "changed the array z it was given"),
    ("integer_result", integer_result, "returned whole numbers"),
    ("float16_result", float16_result, "float16"),
    ("sorted_result", sorted_result, "wrong order"),
    ("divided_by_length", divided_by_length, "divided by the number of values N"),
    ("sum_skips_first_value", sum_skips_first_value, "not 1"),
    ("hard_coded_for_the_example", hard_coded_for_the_example, "returned 4 values for 10"),
    ("truncates_z_to_integers", truncates_z_to_integers, "wrong probabilities"),
    ("rounds_to_two_decimals", rounds_to_two_decimals, "do not round the result"),
    ("loops_with_zeros_like", loops_with_zeros_like, "np.zeros_like(z) copies z's dtype"),
    ("tf_softmax_as_numpy", tf_softmax_as_numpy, "tf.nn.softmax accepts only floats"),
    ("float32_unshifted", float32_unshifted, "underflows to 0"),
    ("base_2_of_integers", base_2_of_integers, "** of a negative integer fails"),
    ("shifted_numerator_unshifted_denominator", shifted_numerator_unshifted_denominator,
     "subtracted max(z) in the top of the fraction but not in the bottom"),
    ("shifted_denominator_unshifted_numerator", shifted_denominator_unshifted_numerator,
     "subtracted max(z) in the bottom of the fraction but not in the top"),
]
