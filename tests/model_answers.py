"""A catalogue of answers to Exercise 2 (the model) that keeps test_model honest.

Each answer is a function that builds what a student's cell would leave in ``model``, so every
test gets a fresh object.
CORRECT: (id, build) pairs the check must accept.
WRONG: (id, build, hint) triples the check must reject with an AssertionError whose message
contains ``hint``, the words that tell the student about that very mistake.
"""
import warnings

import keras
import tensorflow as tf
from keras import Sequential
from keras.layers import Dense


def notebook_solution():
    return Sequential([keras.Input(shape=(400,)),
                       Dense(25, activation="relu", name="L1"),
                       Dense(15, activation="relu", name="L2"),
                       Dense(10, activation="linear", name="L3")], name="my_model")


def without_layer_names():
    return Sequential([keras.Input(shape=(400,)), Dense(25, activation="relu"),
                       Dense(15, activation="relu"), Dense(10, activation="linear")])


def tf_nn_relu():
    return Sequential([keras.Input(shape=(400,)), Dense(25, activation=tf.nn.relu),
                       Dense(15, activation=tf.nn.relu), Dense(10)], name="my_model")


def tf_keras_everything():
    return tf.keras.Sequential([
        tf.keras.Input(shape=(400,)),
        tf.keras.layers.Dense(25, activation=tf.keras.activations.relu),
        tf.keras.layers.Dense(15, activation=tf.keras.activations.relu),
        tf.keras.layers.Dense(10, activation=tf.keras.activations.linear)], name="my_model")


def keras_activation_functions():
    return Sequential([keras.Input(shape=(400,)),
                       Dense(25, activation=keras.activations.relu),
                       Dense(15, activation=keras.activations.relu),
                       Dense(10, activation=keras.activations.linear)], name="my_model")


def input_layer():
    return Sequential([keras.layers.InputLayer(shape=(400,)), Dense(25, activation="relu"),
                       Dense(15, activation="relu"), Dense(10)], name="my_model")


def input_shape_on_first_layer():
    with warnings.catch_warnings():  # Keras warns about input_shape= (the student's warning)
        warnings.simplefilter("ignore")
        return Sequential([Dense(25, activation="relu", input_shape=(400,)),
                           Dense(15, activation="relu"), Dense(10)], name="my_model")


def output_activation_none():
    return Sequential([keras.Input(shape=(400,)), Dense(25, activation="relu"),
                       Dense(15, activation="relu"), Dense(10, activation=None)])


def relu_layer_objects():  # keras.layers.ReLU() computes max(0, x): accepted as ReLU
    return Sequential([keras.Input(shape=(400,)), Dense(25, activation=keras.layers.ReLU()),
                       Dense(15, activation=keras.layers.ReLU()), Dense(10)])


def built_later():
    model = Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)])
    model.build((None, 400))
    return model


def added_one_by_one():
    model = Sequential(name="my_model")
    model.add(keras.Input(shape=(400,)))
    model.add(Dense(25, activation="relu"))
    model.add(Dense(15, activation="relu"))
    model.add(Dense(10, activation="linear"))
    return model


def compiled_already():
    model = notebook_solution()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(learning_rate=0.001))
    return model


def with_regularizers():
    return Sequential([keras.Input(shape=(400,)),
                       Dense(25, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)),
                       Dense(15, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)),
                       Dense(10, activation="linear")])


def custom_relu_function():  # the student's own ReLU: Keras saves it by its name, "relu"
    def relu(x):
        return keras.ops.maximum(x, 0.0)
    return Sequential([keras.Input(shape=(400,)), Dense(25, activation=relu),
                       Dense(15, activation=relu), Dense(10)])


def relu_activation_layers_in_tf_keras():
    return tf.keras.Sequential([tf.keras.Input(shape=(400,)),
                                tf.keras.layers.Dense(25, activation=tf.keras.layers.ReLU()),
                                tf.keras.layers.Dense(15, activation="relu"),
                                tf.keras.layers.Dense(10, activation=None)])


CORRECT = [(f.__name__, f) for f in (
    notebook_solution, without_layer_names, tf_nn_relu, tf_keras_everything,
    keras_activation_functions, input_layer, input_shape_on_first_layer,
    output_activation_none, relu_layer_objects, built_later, added_one_by_one, compiled_already,
    with_regularizers, custom_relu_function, relu_activation_layers_in_tf_keras)]


# ---- wrong answers ------------------------------------------------------------------------------

def _dense_model(*layers, size=400):
    return Sequential([keras.Input(shape=(size,)), *layers], name="my_model")


def two_layers():
    return _dense_model(Dense(25, activation="relu"), Dense(10))


def four_layers():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"),
                        Dense(15, activation="relu"), Dense(10))


def dropout_inside():
    return _dense_model(Dense(25, activation="relu"), keras.layers.Dropout(0.2),
                        Dense(15, activation="relu"), Dense(10))


def units_swapped():
    return _dense_model(Dense(15, activation="relu"), Dense(25, activation="relu"), Dense(10))


def layers_in_wrong_order():
    return _dense_model(Dense(10), Dense(25, activation="relu"), Dense(15, activation="relu"))


def first_layer_25_twice():
    return _dense_model(Dense(25, activation="relu"), Dense(25, activation="relu"), Dense(10))


def first_layer_20_units():
    return _dense_model(Dense(20, activation="relu"), Dense(15, activation="relu"), Dense(10))


def softmax_in_second_layer():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="softmax"), Dense(10))


class ThreeDense(keras.Model):
    """A subclassed model with the right layers: still not the Sequential the exercise asks for."""

    def __init__(self):
        super().__init__(name="my_model")
        self.l1, self.l2 = Dense(25, activation="relu"), Dense(15, activation="relu")
        self.l3 = Dense(10)

    def call(self, x):
        return self.l3(self.l2(self.l1(x)))


def one_output_unit():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(1))


def sigmoid_in_first_layer():
    return _dense_model(Dense(25, activation="sigmoid"), Dense(15, activation="relu"), Dense(10))


def tanh_in_second_layer():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="tanh"), Dense(10))


def leaky_relu_in_first_layer():
    return _dense_model(Dense(25, activation="leaky_relu"), Dense(15, activation="relu"),
                        Dense(10))


def hidden_layer_without_activation():
    return _dense_model(Dense(25, activation="relu"), Dense(15), Dense(10))


def softmax_on_output():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"),
                        Dense(10, activation="softmax"))


def relu_on_output():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"),
                        Dense(10, activation="relu"))


def sigmoid_on_output():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"),
                        Dense(10, activation="sigmoid"))


def input_size_784():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10),
                        size=784)


def input_as_image():
    return Sequential([keras.Input(shape=(20, 20)), Dense(25, activation="relu"),
                       Dense(15, activation="relu"), Dense(10)])


def flatten_first():
    return Sequential([keras.Input(shape=(400,)), keras.layers.Flatten(),
                       Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)])


def separate_activation_layers():
    return _dense_model(Dense(25), keras.layers.Activation("relu"), Dense(15),
                        keras.layers.ReLU(), Dense(10))


def softmax_layer_at_the_end():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10),
                        keras.layers.Softmax())


def no_bias():
    return _dense_model(Dense(25, activation="relu", use_bias=False),
                        Dense(15, activation="relu"), Dense(10))


def no_input_size():  # never built: the weight-shapes cell after the check would crash
    return Sequential([Dense(25, activation="relu", name="L1"),
                       Dense(15, activation="relu", name="L2"),
                       Dense(10, activation="linear", name="L3")], name="my_model")


def identity_on_output():  # computes x, but Keras cannot reload tf.identity
    return Sequential([keras.Input(shape=(400,), name="pixels"), Dense(25, activation="relu"),
                       Dense(15, activation="relu"), Dense(10, activation=tf.identity)])


def own_relu_under_another_name():  # computes ReLU, but Keras saves it as "my_relu"
    def my_relu(x):
        return keras.ops.maximum(x, 0.0)
    return _dense_model(Dense(25, activation=my_relu), Dense(15, activation=my_relu), Dense(10))


def own_function_named_relu_that_leaks():  # named relu, computes max(0.1 x, x)
    def relu(x):
        return keras.ops.maximum(x, 0.1 * x)
    return _dense_model(Dense(25, activation=relu), Dense(15, activation="relu"), Dense(10))


def relu_as_a_lambda():  # Keras cannot save a lambda defined in a cell
    return _dense_model(Dense(25, activation=lambda x: keras.ops.maximum(x, 0.0)),
                        Dense(15, activation="relu"), Dense(10))


def softmax_activation_layer_at_the_end():
    return _dense_model(Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10),
                        keras.layers.Activation("softmax"))


def list_of_layers():
    return [keras.Input(shape=(400,)), Dense(25, activation="relu"), Dense(15, activation="relu"),
            Dense(10)]


def none():
    return None


def functional_model():
    inputs = keras.Input(shape=(400,))
    x = Dense(25, activation="relu")(inputs)
    x = Dense(15, activation="relu")(x)
    return keras.Model(inputs, Dense(10)(x), name="my_model")


def single_dense_layer():
    return Dense(25, activation="relu")


def function_that_builds_the_model():
    return notebook_solution  # the function itself, not the model it returns


def sequential_class():
    return Sequential


def a_number():
    return 42


WRONG = [
    ("two_layers", two_layers, "add the missing one"),
    ("four_layers", four_layers, "remove the extra ones"),
    ("dropout_inside", dropout_inside, "remove the Dropout layer"),
    ("units_swapped", units_swapped, "you swapped the first two layers"),
    ("layers_in_wrong_order", layers_in_wrong_order, "the layers are in the wrong order"),
    ("first_layer_25_twice", first_layer_25_twice, "the second 15"),
    ("first_layer_20_units", first_layer_20_units, "the first layer has 25 units"),
    ("one_output_unit", one_output_unit, "one unit per class"),
    ("softmax_in_second_layer", softmax_in_second_layer, "ReLU in the hidden layers"),
    ("subclassed_model", ThreeDense, "got a ThreeDense Keras model"),
    ("sigmoid_in_first_layer", sigmoid_in_first_layer, "ReLU in the hidden layers"),
    ("tanh_in_second_layer", tanh_in_second_layer, "ReLU in the hidden layers"),
    ("leaky_relu_in_first_layer", leaky_relu_in_first_layer, "ReLU in the hidden layers"),
    ("hidden_layer_without_activation", hidden_layer_without_activation,
     "without an activation a hidden layer is linear"),
    ("softmax_on_output", softmax_on_output, "from_logits=True"),
    ("relu_on_output", relu_on_output, "must be linear"),
    ("sigmoid_on_output", sigmoid_on_output, "must be linear"),
    ("input_size_784", input_size_784, "got (None, 784)"),
    ("input_as_image", input_as_image, "flat row"),
    ("flatten_first", flatten_first, "remove the Flatten layer"),
    ("separate_activation_layers", separate_activation_layers,
     "give the activation to the Dense layer"),
    ("softmax_layer_at_the_end", softmax_layer_at_the_end,
     "remove the Softmax layer at the end: the loss applies the softmax itself"),
    ("softmax_activation_layer_at_the_end", softmax_activation_layer_at_the_end,
     "remove the Activation layer at the end: the loss applies the softmax itself"),
    ("no_input_size", no_input_size, "start the list with keras.Input(shape=(400,))"),
    ("identity_on_output", identity_on_output, "cannot save and reload its activation"),
    ("own_relu_under_another_name", own_relu_under_another_name,
     "cannot save and reload its activation"),
    ("relu_as_a_lambda", relu_as_a_lambda, "cannot save and reload its activation"),
    ("own_function_named_relu_that_leaks", own_function_named_relu_that_leaks,
     "layer 1 has activation relu (your own, not Keras's), expected relu"),
    ("no_bias", no_bias, "use_bias"),
    ("list_of_layers", list_of_layers, "wrap the list of layers in Sequential"),
    ("none", none, "got None"),
    ("functional_model", functional_model, "expect model.layers to be exactly the three"),
    ("single_dense_layer", single_dense_layer, "put your layers in a list inside Sequential"),
    ("function_that_builds_the_model", function_that_builds_the_model,
     "pass the model object itself"),
    ("sequential_class", sequential_class, "pass the model object itself"),
    ("a_number", a_number, "got int 42"),
]
