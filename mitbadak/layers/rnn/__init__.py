"""Recurrent layers: a cell is one time step, an RNN layer runs it over the sequence.

  cell.py        RNNCell: weights, the input projection of all steps, dropout masks
  rnn.py         RNN: any cell over time (masks, go_backwards, return_state, initial_state)
  simple_rnn.py  SimpleRNNCell, SimpleRNN
  lstm.py        LSTMCell, LSTM
  gru.py         GRUCell, GRU (reset_after True and False)
"""
from .cell import RNNCell
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNN, SimpleRNNCell

__all__ = ["RNNCell", "RNN", "SimpleRNNCell", "SimpleRNN", "LSTMCell", "LSTM", "GRUCell", "GRU"]
