"""keras.preprocessing.text: the tf.keras 2.x Tokenizer every NLP tutorial uses.

    tokenizer = Tokenizer(num_words=5000, oov_token="<OOV>")
    tokenizer.fit_on_texts(train_texts)              # word_index: word -> rank by frequency
    sequences = tokenizer.texts_to_sequences(texts)  # lists of ids, ready for pad_sequences

Words are found by lower-casing, replacing every character of ``filters`` by ``split`` and
splitting on ``split``, so Korean text already split into words (by spaces, or by a
morphological analyser joined with spaces) works unchanged. Index 0 is never a word (it is
left for padding); index 1 is the most frequent word, or ``oov_token`` when one is given.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, defaultdict
from typing import Any, Callable, Iterable

import numpy

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text: str, filters: str = DEFAULT_FILTERS, lower: bool = True,
                          split: str = " ") -> list[str]:
    """'Hello, world!' -> ['hello', 'world']: lower-case, filter characters, split."""
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


def hashing_trick(text: str, n: int, hash_function: Any = None, filters: str = DEFAULT_FILTERS,
                  lower: bool = True, split: str = " ", analyzer: Callable | None = None) -> list:
    """Each word -> hash(word) % (n − 1) + 1 (ids in [1, n − 1]; different words may share
    one). ``hash_function='md5'`` is stable from run to run; Python's ``hash`` is not."""
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(w: str) -> int:
            return int(hashlib.md5(w.encode()).hexdigest(), 16)
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(
        text, filters=filters, lower=lower, split=split)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text: str, n: int, filters: str = DEFAULT_FILTERS, lower: bool = True,
            split: str = " ", analyzer: Callable | None = None) -> list:
    """``hashing_trick`` with Python's hash (tf.keras 2.x's one_hot: ids, not vectors)."""
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split, analyzer=analyzer)


class Tokenizer:
    """Texts -> sequences of word ids, or -> one row of numbers per text (tf.keras 2.x).

    Args:
        num_words: keep the ``num_words − 1`` most frequent words when turning texts into
            sequences or matrices (``word_index`` still holds every word seen).
        filters: characters replaced by ``split`` before splitting (default: punctuation,
            tab and newline; not the apostrophe).
        lower: lower-case the texts first.
        split: the separator between words.
        char_level: every character is a token.
        oov_token: a token for words not in the vocabulary (index 1); without it such words
            are dropped from the sequences.
        analyzer: a function text -> list of tokens, used instead of the rule above.

    After ``fit_on_texts``: ``word_counts`` (word -> count, first-seen order),
    ``word_docs`` (word -> number of texts holding it), ``word_index`` (word -> rank, 1 =
    most frequent, ties in first-seen order), ``index_word``, ``index_docs``,
    ``document_count``.
    """

    def __init__(self, num_words: int | None = None, filters: str = DEFAULT_FILTERS,
                 lower: bool = True, split: str = " ", char_level: bool = False,
                 oov_token: str | None = None, analyzer: Callable | None = None,
                 **kwargs: Any):
        if "nb_words" in kwargs:                    # Keras 1's name for num_words
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Tokenizer: unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}.")
        if num_words is not None and (not isinstance(num_words, int) or num_words < 0):
            raise ValueError(f"Tokenizer: num_words must be a positive int or None; got "
                             f"{num_words!r}.")
        self.num_words = num_words
        self.filters, self.lower, self.split = filters, lower, split
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.document_count = document_count
        self.word_counts: OrderedDict = OrderedDict()
        self.word_docs: defaultdict = defaultdict(int)
        self.index_docs: defaultdict = defaultdict(int)
        self.word_index: dict = {}
        self.index_word: dict = {}

    # ------------------------------------------------------------------ tokens
    def _tokens(self, text: Any) -> list:
        if isinstance(text, list) or self.char_level:
            if not isinstance(text, (str, list)):
                raise TypeError(f"Tokenizer: each text must be a string (or a list of "
                                f"tokens); got {type(text).__name__}.")
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer: each text must be a string (or a list of tokens); got "
                            f"{type(text).__name__} {text!r}. Hint: pass a list of texts, "
                            f"e.g. tokenizer.fit_on_texts(df['document'].astype(str)).")
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower,
                                     split=self.split)

    # ------------------------------------------------------------------ fitting
    def fit_on_texts(self, texts: Iterable) -> None:
        """Count the words of `texts` (a list or generator of strings, or of token lists)
        and rank them: word_index[w] = 1 for the most frequent (after oov_token)."""
        if isinstance(texts, str):
            raise TypeError("Tokenizer.fit_on_texts expects a list of texts; got one string. "
                            "Use fit_on_texts([text]).")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        # Most frequent first; sorted() is stable, so ties keep first-seen order.
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + \
            [w for w, _ in ranked]
        self.word_index = {w: i for i, w in enumerate(vocabulary, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, count in self.word_docs.items():
            self.index_docs[self.word_index[w]] = count

    def fit_on_sequences(self, sequences: Iterable) -> None:
        """Count document frequencies of ids (for sequences_to_matrix's tfidf)."""
        sequences = list(sequences)
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    # ------------------------------------------------------------------ texts <-> ids
    def texts_to_sequences(self, texts: Iterable) -> list:
        """Each text -> its word ids. Words ranked num_words or later, and unknown words,
        become oov_token's id, or are dropped without one."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable):
        if isinstance(texts, str):
            raise TypeError("Tokenizer.texts_to_sequences expects a list of texts; got one "
                            "string. Use texts_to_sequences([text]).")
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        limit = self.num_words
        for text in texts:
            ids = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is None or (limit and i >= limit):
                    if oov is not None:
                        ids.append(oov)
                else:
                    ids.append(i)
            yield ids

    def sequences_to_texts(self, sequences: Iterable) -> list:
        """Each list of ids -> its words joined by spaces (the same num_words/oov rules)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences: Iterable):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        limit = self.num_words
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(int(i))
                if w is None or (limit and i >= limit):
                    if oov is not None:
                        words.append(self.index_word[oov])
                else:
                    words.append(w)
            yield " ".join(words)

    # ------------------------------------------------------------------ matrices
    def texts_to_matrix(self, texts: Iterable, mode: str = "binary") -> Any:
        """One row per text over the ids (num_words columns): mode 'binary', 'count',
        'freq' or 'tfidf'."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Iterable, mode: str = "binary") -> Any:
        """(len(sequences), num_words) float64, column j for id j (ids >= num_words ignored):

            binary: 1 where id j occurs     count: how often     freq: count / len(sequence)
            tfidf:  (1 + ln count) · ln(1 + documents / (1 + documents holding j))
        """
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError(f"Tokenizer: unknown vectorization mode {mode!r}; use 'binary', "
                             f"'count', 'freq' or 'tfidf'.")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Tokenizer: give num_words, or fit on some texts first, so the "
                             "matrix has a known number of columns.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer: fit on some texts before using mode='tfidf'.")
        sequences = [list(s) for s in sequences]
        out = numpy.zeros((len(sequences), width))
        lengths = numpy.array([len(s) for s in sequences], dtype=numpy.int64)
        rows = numpy.repeat(numpy.arange(len(sequences)), lengths)
        cols = numpy.fromiter((j for s in sequences for j in s), dtype=numpy.int64,
                              count=int(lengths.sum()))
        keep = cols < width
        counts = numpy.bincount(rows[keep] * width + cols[keep],
                                minlength=out.size).reshape(out.shape)
        if mode == "count":
            out[:] = counts
        elif mode == "binary":
            out[:] = counts > 0
        elif mode == "freq":
            nonempty = lengths > 0
            out[nonempty] = counts[nonempty] / lengths[nonempty, None]
        else:
            docs = numpy.array([self.index_docs.get(j, 0) for j in range(width)], dtype=float)
            idf = numpy.log(1 + self.document_count / (1 + docs))
            present = counts > 0
            out[present] = (1 + numpy.log(counts[present])) * numpy.broadcast_to(
                idf, out.shape)[present]
        return out

    # ------------------------------------------------------------------ saving
    def get_config(self) -> dict:
        """The settings and every count, the dictionaries as JSON text (tf.keras 2.x's)."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level,
                "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs: Any) -> str:
        """JSON text that ``tokenizer_from_json`` (here or in tf.keras) reads back."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """The Tokenizer saved with ``to_json`` (by mitbadak or tf.keras 2.x)."""
    config = dict(json.loads(json_string).get("config") or {})
    counts = {k: json.loads(config.pop(k, "{}")) for k in
              ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(counts["word_counts"])
    tokenizer.word_docs = defaultdict(int, counts["word_docs"])
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in counts["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in counts["index_word"].items()}
    tokenizer.word_index = counts["word_index"]
    return tokenizer


__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence", "one_hot",
           "hashing_trick"]
