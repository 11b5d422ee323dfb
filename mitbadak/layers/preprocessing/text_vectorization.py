"""TextVectorization: strings -> token ids (or word-count vectors), as Keras 3 does it.

    vectorize = layers.TextVectorization(max_tokens=20000, output_sequence_length=100)
    vectorize.adapt(train_texts)                 # the vocabulary, most frequent first
    ids = vectorize(["I loved this movie"])      # (1, 100) int64, ready for an Embedding

Each text goes through four steps:

1. standardize: ``"lower_and_strip_punctuation"`` lower-cases A-Z (TensorFlow's
   ``strings.lower``: ASCII letters only) and removes ASCII punctuation;
2. split: ``"whitespace"`` (runs of spaces, tabs, newlines) or ``"character"``;
3. ngrams: with ``ngrams=2`` the tokens, then every pair "a b" of neighbours;
4. lookup: token -> index in the vocabulary. ``output_mode="int"``: index 0 is padding ("")
   and 1 out-of-vocabulary ("[UNK]"); the other modes give one row of ``vocabulary_size``
   numbers per text: ``multi_hot`` (1 where a token occurs; column 0 = any unknown token),
   ``count``, or ``tf_idf`` (count × idf, idf = ln(1 + texts / (1 + texts holding it)),
   unknown tokens weighted by the mean idf).

``adapt`` ranks tokens by count, ties by the token (its UTF-8 bytes, highest first), and
keeps the ``max_tokens`` (including the special tokens) first. Korean text split on spaces
works unchanged (the lower-casing touches ASCII only, as in Keras).

The layer has no weights and no gradient: it is the first layer of a model that takes
``keras.Input(shape=(1,), dtype="string")``, or it prepares data outside the model.
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy

from ...backend import xp
from ..layer import Layer

_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'
_STRIP = str.maketrans("", "", _PUNCTUATION)
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile(r"[ \t\n\r\x0b\x0c]+")
_STANDARDIZE = (None, "lower", "strip_punctuation", "lower_and_strip_punctuation")
_SPLIT = (None, "whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")
PAD, OOV = "", "[UNK]"


class TextVectorization(Layer):
    """``TextVectorization(max_tokens=None, standardize='lower_and_strip_punctuation',
    split='whitespace', ngrams=None, output_mode='int', output_sequence_length=None,
    pad_to_max_tokens=False, vocabulary=None, idf_weights=None)``.

    Input: strings, shape (batch,) or (batch, 1). Output: int64 (batch, length) in ``int``
    mode (padded with 0 or cut to ``output_sequence_length``; without it, as long as the
    longest text of the batch), float32 (batch, vocabulary size) otherwise.
    """

    keeps_integer_inputs = True
    per_sample = False
    # The model's input for this layer holds text (Sequential makes its Input so).
    input_dtype = "string"

    def __init__(self, max_tokens: int | None = None,
                 standardize: Any = "lower_and_strip_punctuation", split: Any = "whitespace",
                 ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 vocabulary_size: int | None = None, has_input_vocabulary: Any = None,
                 **kwargs: Any):
        super().__init__(name=name, **kwargs)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        self._check_arguments(max_tokens, standardize, split, ngrams, output_mode,
                              output_sequence_length, pad_to_max_tokens, sparse, ragged)
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.ngrams = ngrams
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode, self.output_sequence_length = output_mode, output_sequence_length
        self.pad_to_max_tokens, self.sparse, self.ragged = pad_to_max_tokens, sparse, ragged
        self.encoding = encoding
        self._vocabulary: list[str] = []          # the learned tokens, without PAD and OOV
        self._index: dict[str, int] = {}
        self.idf_weights = None                   # tf_idf: one weight per output column
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"TextVectorization {self.name!r}: idf_weights needs a "
                             f"vocabulary to go with.")

    def _check_arguments(self, max_tokens, standardize, split, ngrams, output_mode, length,
                         pad_to_max_tokens, sparse, ragged) -> None:
        who = f"TextVectorization {self.name!r}"
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens <= 1):
            raise ValueError(f"{who}: max_tokens must be an int > 1 or None; got "
                             f"{max_tokens!r}.")
        if standardize not in _STANDARDIZE and not callable(standardize):
            raise ValueError(f"{who}: standardize must be one of {_STANDARDIZE} or a function; "
                             f"got {standardize!r}.")
        if split not in _SPLIT and not callable(split):
            raise ValueError(f"{who}: split must be one of {_SPLIT} or a function; got "
                             f"{split!r}.")
        if not (ngrams is None or (isinstance(ngrams, int) and ngrams > 0) or
                (isinstance(ngrams, (tuple, list)) and
                 all(isinstance(n, int) and n > 0 for n in ngrams))):
            raise ValueError(f"{who}: ngrams must be None, an int or a tuple of ints; got "
                             f"{ngrams!r}.")
        if output_mode not in _MODES:
            raise ValueError(f"{who}: output_mode must be one of {_MODES}; got "
                             f"{output_mode!r}.")
        if length is not None and (output_mode != "int" or not isinstance(length, int) or
                                   length <= 0):
            raise ValueError(f"{who}: output_sequence_length must be a positive int, and only "
                             f"with output_mode='int'; got {length!r} with {output_mode!r}.")
        if pad_to_max_tokens and max_tokens is None and output_mode != "int":
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens.")
        if sparse or ragged:
            raise ValueError(f"{who}: sparse and ragged outputs are TensorFlow tensors; "
                             f"mitbadak gives dense NumPy arrays (sparse=False, ragged=False).")

    # ------------------------------------------------------------------ text -> tokens
    def _texts(self, inputs: Any) -> list[str]:
        """Inputs (a string, a list, an array (batch,) or (batch, 1)) -> a list of str."""
        if isinstance(inputs, str):
            inputs = [inputs]
        a = numpy.asarray(inputs, dtype=object)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        elif a.ndim != 1:
            raise ValueError(f"TextVectorization {self.name!r} takes one string per sample, "
                             f"shape (batch,) or (batch, 1); got shape {a.shape}.")
        out = []
        for t in a:
            if isinstance(t, bytes):
                t = t.decode(self.encoding)
            elif not isinstance(t, str):
                raise TypeError(f"TextVectorization {self.name!r} takes strings; got "
                                f"{type(t).__name__} {t!r:.40}.")
            out.append(t)
        return out

    def _standardized(self, texts: list[str]) -> list[str]:
        s = self.standardize
        if s in ("lower", "lower_and_strip_punctuation"):
            texts = [t.translate(_LOWER) for t in texts]
        if s in ("strip_punctuation", "lower_and_strip_punctuation"):
            texts = [t.translate(_STRIP) for t in texts]
        if callable(s):
            texts = [str(t) for t in numpy.asarray(s(numpy.array(texts, dtype=str))).ravel()]
        return texts

    def _tokens(self, inputs: Any) -> list[list[str]]:
        """Every text's tokens: standardized, split, n-grams added."""
        texts = self._standardized(self._texts(inputs))
        if self.split is None:
            tokens = [[t] for t in texts]
        elif self.split == "whitespace":
            tokens = [[w for w in _WHITESPACE.split(t) if w] for t in texts]
        elif self.split == "character":
            tokens = [list(t) for t in texts]
        else:
            tokens = [[str(w) for w in ws] for ws in self.split(numpy.array(texts, dtype=str))]
        if self._widths:
            tokens = [self._ngrams(ws) for ws in tokens]
        return tokens

    def _ngrams(self, words: list[str]) -> list[str]:
        out: list[str] = []
        for n in self._widths:
            out += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        return out

    # ------------------------------------------------------------------ the vocabulary
    def _token_start(self) -> int:
        """Index of the first learned token: after PAD and OOV (int), after OOV (others)."""
        return 2 if self.output_mode == "int" else 1

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and, for tf_idf, the document frequencies) from `data`: a
        list or array of strings, or an iterable of batches of them (a batch (x, y) counts
        its x). Replaces any vocabulary the layer had."""
        counts: dict[str, int] = {}
        docs: dict[str, int] = {}
        n_docs = 0
        if isinstance(data, (str, list, tuple, numpy.ndarray)):
            batches: Any = [data]
        else:
            batches = data
        for k, batch in enumerate(batches):
            if steps is not None and k >= steps:
                break
            if isinstance(batch, tuple) and len(batch) in (2, 3) and not isinstance(
                    batch[0], str):
                batch = batch[0]
            for words in self._tokens(batch):
                n_docs += 1
                for w in words:
                    counts[w] = counts.get(w, 0) + 1
                for w in set(words):
                    docs[w] = docs.get(w, 0) + 1
        for special in (PAD, OOV):
            counts.pop(special, None)
        ranked = sorted(counts, key=lambda w: (counts[w], w.encode("utf-8")), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - self._token_start()]
        self._set(ranked)
        if self.output_mode == "tf_idf":
            idf = [math.log(1 + n_docs / (1 + docs[w])) for w in ranked]
            self._set_idf(numpy.array(idf))

    def _set(self, tokens: list[str]) -> None:
        self._vocabulary = list(tokens)
        start = self._token_start()
        self._index = {w: i for i, w in enumerate(self._vocabulary, start=start)}
        if len(self._index) != len(self._vocabulary):
            seen, repeated = set(), []
            for w in self._vocabulary:
                if w in seen:
                    repeated.append(w)
                seen.add(w)
            raise ValueError(f"TextVectorization {self.name!r}: the vocabulary repeats "
                             f"{repeated[:5]}; every token must appear once.")
        self.idf_weights = None

    def _set_idf(self, idf: Any) -> None:
        """One weight per column: OOV (the mean of the tokens'), the tokens', zeros to
        max_tokens with pad_to_max_tokens."""
        idf = numpy.asarray(idf, dtype="float32")
        mean = float(idf.mean()) if idf.size else 0.0
        weights = numpy.concatenate([numpy.full(1, mean, dtype="float32"), idf])
        depth = self._depth()
        if depth is not None and depth > len(weights):
            weights = numpy.concatenate([weights, numpy.zeros(depth - len(weights), "float32")])
        self.idf_weights = weights

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use `vocabulary` (a list of tokens, most frequent first, or the path of a text file
        with one token per line) instead of adapting; with or without the special tokens
        ("" and "[UNK]" in int mode, "[UNK]" otherwise) at the front. tf_idf needs
        `idf_weights`, one per token."""
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding=self.encoding) as f:
                vocabulary = f.read().splitlines()
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        tokens = [t.decode(self.encoding) if isinstance(t, bytes) else str(t)
                  for t in numpy.asarray(vocabulary, dtype=object).ravel()]
        if not tokens:
            raise ValueError(f"TextVectorization {self.name!r}: the vocabulary is empty.")
        special = [PAD, OOV] if self.output_mode == "int" else [OOV]
        has_special = tokens[:len(special)] == special
        if has_special:
            tokens = tokens[len(special):]
        for s in special:
            if s in tokens and (s != PAD or self.output_mode == "int"):
                raise ValueError(f"TextVectorization {self.name!r}: the vocabulary holds the "
                                 f"special token {s!r} in the middle; give it only at the "
                                 f"front, in the order {special}, or not at all.")
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"TextVectorization {self.name!r}: output_mode='tf_idf' needs "
                                 f"idf_weights with the vocabulary.")
            idf = numpy.asarray(idf_weights, dtype="float32").ravel()
            if has_special and len(idf) == len(tokens) + 1:
                idf = idf[1:]
            if len(idf) != len(tokens):
                raise ValueError(f"TextVectorization {self.name!r}: {len(idf)} idf_weights for "
                                 f"{len(tokens)} tokens.")
        elif idf_weights is not None:
            raise ValueError(f"TextVectorization {self.name!r}: idf_weights only go with "
                             f"output_mode='tf_idf'; got output_mode={self.output_mode!r}.")
        if self.max_tokens and len(tokens) + self._token_start() > self.max_tokens:
            raise ValueError(f"TextVectorization {self.name!r}: a vocabulary of "
                             f"{len(tokens) + self._token_start()} (with the special tokens) "
                             f"does not fit max_tokens={self.max_tokens}.")
        self._set(tokens)
        if self.output_mode == "tf_idf":
            self._set_idf(idf)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens by index: ["", "[UNK]", most frequent, ...] in int mode."""
        if not include_special_tokens:
            return list(self._vocabulary)
        special = [PAD, OOV] if self.output_mode == "int" else [OOV]
        return special + list(self._vocabulary)

    def vocabulary_size(self) -> int:
        """Tokens in the vocabulary, special tokens included."""
        return len(self._vocabulary) + self._token_start()

    def _depth(self) -> int | None:
        if self.pad_to_max_tokens and self.max_tokens:
            return self.max_tokens
        return self.vocabulary_size() if self._vocabulary else None

    # ------------------------------------------------------------------ the layer
    def _check_input_shape(self, shape: Any) -> None:
        """Any batch of strings."""

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._depth())

    def forward(self, x: Any, training: bool = False) -> Any:
        """Strings (batch,) or (batch, 1) -> ids (int64) or one row of numbers per text."""
        if not self._vocabulary:
            raise ValueError(f"TextVectorization {self.name!r} has no vocabulary yet: call "
                             f"layer.adapt(texts) first (or give vocabulary=[...]).")
        tokens = self._tokens(x)
        get = self._index.get
        oov = 1 if self.output_mode == "int" else 0
        ids = [[0 if w == PAD and self.output_mode == "int" else get(w, oov) for w in words]
               for words in tokens]
        if self.output_mode == "int":
            length = self.output_sequence_length
            if self.split is None and length is None:       # one id per string, in its shape
                flat = xp.asarray([r[0] for r in ids], dtype="int64")
                return flat if numpy.ndim(x) == 1 else flat[:, None]
            if length is None:
                length = max((len(r) for r in ids), default=0)
            out = xp.zeros((len(ids), length), dtype="int64")
            for i, row in enumerate(ids):
                row = row[:length]
                out[i, :len(row)] = row
            return out
        depth = self._depth()
        lengths = numpy.array([len(r) for r in ids], dtype=numpy.int64)
        rows = numpy.repeat(numpy.arange(len(ids)), lengths)
        cols = numpy.fromiter((j for r in ids for j in r), dtype=numpy.int64,
                              count=int(lengths.sum()))
        counts = numpy.bincount(rows * depth + cols, minlength=len(ids) * depth)
        counts = counts.reshape(len(ids), depth).astype("float32")
        if self.output_mode == "multi_hot":
            counts = (counts > 0).astype("float32")
        elif self.output_mode == "tf_idf":
            counts *= self.idf_weights[:depth]
        return xp.asarray(counts)

    def backward(self, dy: Any) -> None:
        return None                      # text has no gradient; nothing here is trained

    # ------------------------------------------------------------------ files
    def get_config(self) -> dict:
        """Keras 3's keys. The vocabulary (and the idf weights) are written into the config
        whenever the layer has one, so the file holds it even where a format keeps no
        assets (.h5); Keras reads them back as a given vocabulary."""
        vocabulary = list(self._vocabulary) if self._vocabulary else None
        idf = None
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            idf = [float(v) for v in self.idf_weights[1:1 + len(self._vocabulary)]]
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self.standardize, "split": self.split,
                "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": self.sparse,
                "ragged": self.ragged, "vocabulary": vocabulary, "idf_weights": idf,
                "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict) -> "TextVectorization":
        config = dict(config)
        if isinstance(config.get("vocabulary"), str):
            raise ValueError("TextVectorization: a saved config names a vocabulary file "
                             f"({config['vocabulary']!r}); mitbadak reads no file a model file "
                             "points to. Put the vocabulary itself in the config.")
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def load_asset_files(self, files: dict) -> None:
        """A Keras 3 .keras archive keeps an adapted vocabulary in
        ``assets/<layer path>/vocabulary.txt`` (special tokens first, one token a line)."""
        data = files.get("vocabulary.txt")
        if data is None or self._vocabulary:
            return
        lines = data.decode(self.encoding).split("\n")
        while lines and lines[-1] == "":
            lines.pop()
        special = len(self.get_vocabulary()) - len(self._vocabulary)
        tokens = lines[special:] if lines[:special] == self.get_vocabulary()[:special] else lines
        if tokens:
            self._set(tokens)
        pending = getattr(self, "_pending_idf", None)
        if pending is not None:
            self._apply_idf(pending)

    def own_variables(self) -> dict:
        """What a Keras 3 .keras file holds besides weights: tf_idf's ``idf_weights``, in the
        layer's vars and in those of its ``_lookup_layer`` (Keras's inner StringLookup)."""
        if self.output_mode != "tf_idf" or self.idf_weights is None:
            return {}
        return {"": {"idf_weights": self.idf_weights},
                "_lookup_layer": {"idf_weights": self.idf_weights}}

    def load_own_variables(self, store: dict) -> None:
        """Keras 3 keeps tf_idf's weights as the variable ``idf_weights`` (OOV's first)."""
        if "idf_weights" in store and self.output_mode == "tf_idf":
            self._pending_idf = numpy.asarray(store["idf_weights"], dtype="float32")
            if self._vocabulary:
                self._apply_idf(self._pending_idf)

    def _apply_idf(self, weights: Any) -> None:
        self.idf_weights = numpy.asarray(weights, dtype="float32")
        self._pending_idf = None


__all__ = ["TextVectorization"]
