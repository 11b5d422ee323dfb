"""keras.layers: Dense, Conv2D, ... Every layer has forward(x) and backward(dy)."""
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .node import KerasTensor
from .layer import Layer, Variable

__all__ = ["Layer", "Variable", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Dropout",
           "Reshape"]
from .convolution import (Conv1D, Conv2D, Convolution1D, Convolution2D, DepthwiseConv2D,
                          Conv2DTranspose)
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                      GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .normalization import BatchNormalization, LayerNormalization
from .reshaping import (Cropping1D, Cropping2D, UpSampling1D, UpSampling2D, ZeroPadding1D,
                        ZeroPadding2D)
from .regularization import SpatialDropout1D, SpatialDropout2D
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
                      add, average, concatenate, dot, maximum, minimum, multiply, subtract)

__all__ += ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D", "DepthwiseConv2D",
            "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D", "MaxPool1D", "MaxPool2D",
            "AveragePooling1D", "AveragePooling2D", "AvgPool1D", "AvgPool2D",
            "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
            "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D",
            "GlobalAvgPool2D", "BatchNormalization", "LayerNormalization", "ZeroPadding1D",
            "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
            "SpatialDropout1D", "SpatialDropout2D",
            "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
            "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
from .embedding import Embedding
from .masking import Masking
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .wrappers import Bidirectional, TimeDistributed

__all__ += ["Embedding", "Masking", "Bidirectional", "TimeDistributed",
            "RNN", "SimpleRNNCell", "SimpleRNN", "LSTMCell", "LSTM", "GRUCell", "GRU"]
from .activation_layers import ELU, Identity, LeakyReLU, PReLU, ReLU, Softmax
from .convolution import (SeparableConv1D, SeparableConv2D, SeparableConvolution1D,
                          SeparableConvolution2D)
from .lambda_layer import Lambda

__all__ += ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Identity", "SeparableConv1D",
            "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D", "Lambda"]
from .preprocessing import (CenterCrop, Normalization, RandomBrightness, RandomContrast,
                            RandomCrop, RandomFlip, RandomRotation, RandomTranslation,
                            RandomZoom, Rescaling, Resizing, TextVectorization)

__all__ += ["Rescaling", "Resizing", "CenterCrop", "Normalization", "RandomFlip",
            "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
            "RandomBrightness", "RandomCrop", "TextVectorization"]
