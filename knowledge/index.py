"""The FAQ search index: inverted lists as flat arrays, built once per FAQ content.

Every structure the ranking (:mod:`knowledge.search`) reads per query, precomputed
from the entries alone (no SQL: the caller hands the entries in):

* **words** - every content word and Chinese bigram of every question, phrasing and
  answer (:func:`knowledge.text.terms`), with its weight (idf, question words and
  Chinese glue discounted) and two inverted lists in CSR form: the
  ``(entry, language)`` pairs holding it (1.0 in a question or phrasing,
  :data:`ANSWER_WEIGHT` in an answer only), and the phrasings holding it;
* **trigrams** - per trigram inside a word, the strings holding it and how often
  (the FTS5 ``trigram`` tokenizer's view of the ``norm`` column), and per string its
  length term, so that bm25 is computed exactly as SQLite FTS5 computes it, on the
  rows of the query's trigrams only, at most :data:`MAX_BM25_ROWS` of them
  (:meth:`SearchIndex.bm25_best`);
* **spelling** - per script the vocabulary's letter sets (64-bit) and lengths, for the
  spelling-correction prefilter, and the vocabulary in sorted order for the
  shared-prefix look-up;
* **fuzzy choices** - per ``(entry, language)`` the processed questions and phrasings.

:meth:`SearchIndex.to_bytes` lays it all out as one blob (a JSON header and raw
arrays) and :meth:`SearchIndex.from_bytes` maps it back without parsing arrays, so a
process loads a stored index in milliseconds instead of rebuilding it.

The build is bulk work: each distinct word is folded and cut once
(:func:`knowledge.text.fold_many`, :func:`knowledge.text.term_units_flat`), then the
postings are numpy sorts and counts over all (word, string) pairs at once - no Python
loop over postings - so 10,000 entries build in about 25 s on a 2-core machine.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import math
from typing import Iterable

import numpy as np
from rapidfuzz import fuzz, process

from knowledge.faq import LANGS, FaqEntry
from knowledge.text import (
    CJK_STOP_CHARS,
    CJK_STOP_WEIGHT,
    FUZZY_CUTOFF,
    INTENT_WORDS,
    MIN_FUZZY_LEN,
    PREFIX,
    QUESTION_WORD_WEIGHT,
    QUESTION_WORDS,
    content_tokens,
    dominant_script,
    fold_many,
    letter_bits,
    prefix_sim,
    term_units_flat,
)

FORMAT = 1
"""Version of the layout and of the text processing it was built with: part of the
digest, so a stored index built by other code is never loaded."""
ANSWER_WEIGHT = 0.6
"""A word found only in an answer counts this much of one found in a question or phrasing."""
K1, B = 1.2, 0.75
"""FTS5's bm25 parameters."""
LANG_INDEX = {lang: i for i, lang in enumerate(LANGS)}
NL = len(LANGS)
"""A ``(entry, language)`` pair is the key ``entry * NL + language index``."""
MAX_BM25_ROWS = 32000
"""Trigram rows (string, count) one bm25 look-up reads at most (see :meth:`SearchIndex.bm25_best`).
The FAQ's own queries stay far below (12 trigrams, each in at most 5 % of some 5,000
strings); a FAQ of 10,000 entries whose queries' common trigrams are each in
thousands of strings is where it binds."""

_ARRAYS = ("hit_ptr", "hit_key", "hit_base", "phr_ptr", "phr_pid", "phrase_entry", "phrase_weight", "weight",
           "tri_ptr", "tri_row", "tri_tf", "str_entry", "str_answer", "str_norm", "q_ptr", "prefix_order",
           "spell_ids", "spell_bits", "spell_lens", "spell_ptr")
_TEXTS = ("words", "tri", "q_text")
SPELL_SCRIPTS = ("latin", "cyrillic", "arabic", "other")


def entries_digest(entries: Iterable[FaqEntry]) -> str:
    """A digest of what the index is built from (and of :data:`FORMAT`)."""
    digest = hashlib.sha256(f"search-index {FORMAT}".encode())
    for e in entries:
        parts = [e.id, e.topic, e.source, e.note or "", e.origin]
        for lang, t in sorted(e.texts.items()):
            parts += [lang, t.q, "\x1f".join(t.alt), t.a]
        digest.update(("\x1e".join(parts) + "\x1d").encode())
    return digest.hexdigest()


def _ptr(lists: list[list]) -> np.ndarray:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return ptr


def _csr(lists: list[list], dtype) -> tuple[np.ndarray, np.ndarray]:
    ptr = _ptr(lists)
    flat = np.fromiter((v for x in lists for v in x), dtype=dtype, count=int(ptr[-1]))
    return ptr, flat


class SearchIndex:
    """The arrays described in the module docstring, and the entries they describe."""

    # the arrays of _ARRAYS the ranker reads (set in __init__ by name)
    weight: np.ndarray
    phrase_entry: np.ndarray
    phrase_weight: np.ndarray
    str_entry: np.ndarray
    str_answer: np.ndarray
    str_norm: np.ndarray
    # and the others of _ARRAYS
    hit_ptr: np.ndarray
    hit_key: np.ndarray
    hit_base: np.ndarray
    phr_ptr: np.ndarray
    phr_pid: np.ndarray
    tri_ptr: np.ndarray
    tri_row: np.ndarray
    tri_tf: np.ndarray
    q_ptr: np.ndarray
    prefix_order: np.ndarray
    spell_ids: np.ndarray
    spell_bits: np.ndarray
    spell_lens: np.ndarray
    spell_ptr: np.ndarray

    def __init__(self, entries: list[FaqEntry], digest: str, arrays: dict[str, np.ndarray],
                 texts: dict[str, list[str]], scalars: dict[str, float]):
        self.entries = entries
        self.digest = digest
        self.by_id = {entry.id: i for i, entry in enumerate(entries)}
        for name, value in arrays.items():
            setattr(self, name, value)
        self.words: list[str] = texts["words"]
        self.tri: list[str] = texts["tri"]
        self.q_text: list[str] = texts["q_text"]
        self.max_idf = float(scalars["max_idf"])
        self.strings = int(scalars["strings"])
        self.word_id = {w: i for i, w in enumerate(self.words)}
        self.tri_id = {t: i for i, t in enumerate(self.tri)}
        self.prefix_words = [self.words[i] for i in self.prefix_order.tolist()]
        self.tri_df = np.diff(self.tri_ptr)
        self.phrasings = len(self.phrase_entry)
        self._spell: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
        for i, script in enumerate(SPELL_SCRIPTS):
            lo, hi = int(self.spell_ptr[i]), int(self.spell_ptr[i + 1])
            if hi > lo:
                ids = self.spell_ids[lo:hi]
                self._spell[script] = ([self.words[j] for j in ids.tolist()], ids,
                                       self.spell_bits[lo:hi], self.spell_lens[lo:hi])
        self._similar: dict[str, tuple[tuple[int, float], ...]] = {}

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, entries: list[FaqEntry]) -> "SearchIndex":
        """Index ``entries`` (in memory; nothing is read or written elsewhere)."""
        entries = list(entries)
        # One row per string (question, phrasing or answer) in entry, language, field order.
        raw: list[str] = []
        str_entry: list[int] = []
        str_key: list[int] = []
        str_answer: list[bool] = []
        for e, entry in enumerate(entries):
            for lang, text in entry.texts.items():
                if lang not in LANG_INDEX:
                    continue
                key = e * NL + LANG_INDEX[lang]
                for field, s in [(0, q) for q in text.questions()] + [(1, text.a)]:
                    raw.append(s)
                    str_entry.append(e)
                    str_key.append(key)
                    str_answer.append(bool(field))
        folded_strings = fold_many(raw)
        del raw
        # Words of each string (ids in first appearance order) as flat (word, string) pairs;
        # a word twice in one string is twice here (the steps below do not mind, except
        # the phrasings', which remove repeats).
        word_id = _Numbering()
        units, per_row = term_units_flat(folded_strings)
        pw = np.fromiter(map(word_id.__getitem__, units), dtype=np.int64, count=len(units))
        pr = np.repeat(np.arange(len(folded_strings), dtype=np.int64), per_row)
        del units
        q_lists: list[list[str]] = [[] for _ in range(len(entries) * NL)]
        for row, folded in enumerate(folded_strings):
            if not str_answer[row]:
                joined = " ".join(tok for tok, _ in content_tokens(folded))
                key = str_key[row]
                if joined and joined not in q_lists[key]:
                    q_lists[key].append(joined)
        words = list(word_id)
        n_words = len(words)
        entry_of = np.array(str_entry, dtype=np.int64)
        key_of = np.array(str_key, dtype=np.int64)
        answer_of = np.array(str_answer, dtype=bool)
        # (word, entry-language) postings with the best base: 1.0 from a question, else the answer's.
        keys_total = max(len(entries) * NL, 1)
        # One sort of (pair, from an answer) numbers: per pair, a question occurrence first.
        ranked = np.sort((pw * keys_total + key_of[pr]) * 2 + answer_of[pr])
        first = np.ones(len(ranked), dtype=bool)
        first[1:] = (ranked[1:] >> 1) != (ranked[:-1] >> 1)
        ranked = ranked[first]
        hit_pairs, from_question = ranked >> 1, (ranked & 1) == 0
        del ranked, first
        hit_word = hit_pairs // keys_total
        hit_ptr = np.zeros(n_words + 1, dtype=np.int64)
        hit_ptr[1:] = np.cumsum(np.bincount(hit_word, minlength=n_words))
        hit_key = (hit_pairs % keys_total).astype(np.int32)
        hit_base = np.where(from_question, 1.0, ANSWER_WEIGHT).astype(np.float32)
        # Entries per word (idf) and the words' weights: the postings are sorted by word,
        # then entry, so each (word, entry) starts where either changes.
        hit_entry = hit_key // NL
        starts = np.ones(len(hit_word), dtype=bool)
        starts[1:] = (hit_word[1:] != hit_word[:-1]) | (hit_entry[1:] != hit_entry[:-1])
        doc_freq = np.bincount(hit_word[starts], minlength=n_words)
        del hit_pairs, hit_entry, starts
        n = max(len(entries), 1)
        max_idf = math.log(1 + n)
        idf = np.log(1 + n / np.maximum(doc_freq, 1))
        weight = np.array([_word_weight(w, float(idf[i])) for i, w in enumerate(words)], dtype=np.float64)
        # Phrasings: the questions and phrasings holding at least one word, in string order.
        words_per_row = np.bincount(pr, minlength=len(folded_strings))
        is_phrase = ~answer_of & (words_per_row > 0)
        pid_of_row = np.cumsum(is_phrase) - 1
        phrase_entry = entry_of[is_phrase].astype(np.int32)
        in_phrase = is_phrase[pr]
        ph_word, ph_row = pw[in_phrase], pr[in_phrase]
        # each word once per phrasing (its first place, in string order)
        _, firsts = np.unique(ph_word * max(len(folded_strings), 1) + ph_row, return_index=True)
        firsts.sort()
        ph_word, ph_pid = ph_word[firsts], pid_of_row[ph_row[firsts]]
        phrase_weight = np.bincount(ph_pid, weights=weight[ph_word], minlength=len(phrase_entry))
        phrase_weight[phrase_weight == 0] = 1.0
        order = np.argsort(ph_word, kind="stable")
        phr_ptr = np.zeros(n_words + 1, dtype=np.int64)
        phr_ptr[1:] = np.cumsum(np.bincount(ph_word, minlength=n_words))
        phr_pid = ph_pid[order].astype(np.int32)
        str_tokens = [max(0, len(f) - 2) for f in folded_strings]  # the trigram tokenizer's token count
        strings = len(str_entry)
        tri_list, tri_ptr, tri_row, tri_tf = _trigram_postings(folded_strings)
        del folded_strings
        tokens = np.array(str_tokens, dtype=np.float64)
        avgdl = float(tokens.sum()) / strings if strings else 1.0
        str_norm = K1 * (1 - B + B * tokens / (avgdl or 1.0))
        q_ptr = _ptr(q_lists)
        q_text = [q for qs in q_lists for q in qs]
        prefix_order = np.array(sorted((i for i, w in enumerate(words) if len(w) >= PREFIX and not w.isdigit()),
                                       key=words.__getitem__), dtype=np.int32)
        spell: dict[str, list[int]] = {script: [] for script in SPELL_SCRIPTS}
        for i, w in enumerate(words):
            if len(w) >= MIN_FUZZY_LEN and not w.isdigit():
                script = dominant_script(w)
                if script in spell:
                    spell[script].append(i)
        spell_ids = [i for script in SPELL_SCRIPTS for i in spell[script]]
        arrays: dict[str, np.ndarray] = {
            "hit_ptr": hit_ptr, "hit_key": hit_key, "hit_base": hit_base,
            "phr_ptr": phr_ptr, "phr_pid": phr_pid,
            "phrase_entry": phrase_entry, "phrase_weight": phrase_weight,
            "weight": weight,
            "tri_ptr": tri_ptr, "tri_row": tri_row, "tri_tf": tri_tf,
            "str_entry": entry_of.astype(np.int32), "str_answer": answer_of,
            "str_norm": str_norm,
            "q_ptr": q_ptr, "prefix_order": prefix_order,
            "spell_ids": np.array(spell_ids, dtype=np.int32),
            "spell_bits": np.array([letter_bits(words[i]) for i in spell_ids], dtype=np.uint64),
            "spell_lens": np.array([len(words[i]) for i in spell_ids], dtype=np.int64),
            "spell_ptr": np.cumsum([0] + [len(spell[s]) for s in SPELL_SCRIPTS]).astype(np.int64),
        }
        texts = {"words": words, "tri": tri_list, "q_text": q_text}
        return cls(entries, entries_digest(entries), arrays, texts, {"max_idf": max_idf, "strings": max(strings, 1)})

    # -- storing ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as one blob: 8-byte header length, JSON header, then the raw arrays."""
        parts: list[bytes] = []
        layout: dict[str, list] = {}
        offset = 0
        for name in _ARRAYS:
            value = np.ascontiguousarray(getattr(self, name))
            layout[name] = [value.dtype.str, len(value), offset]
            parts.append(value.tobytes())
            offset += value.nbytes
        for name in _TEXTS:
            data = "\n".join(getattr(self, name)).encode()
            layout[name] = ["text", len(getattr(self, name)), offset, len(data)]
            parts.append(data)
            offset += len(data)
        header = json.dumps({"format": FORMAT, "digest": self.digest, "layout": layout,
                             "max_idf": self.max_idf, "strings": self.strings}).encode()
        return len(header).to_bytes(8, "little") + header + b"".join(parts)

    @classmethod
    def from_bytes(cls, blob: bytes, entries: list[FaqEntry], digest: str | None = None) -> "SearchIndex | None":
        """The index stored by :meth:`to_bytes`, or None if it was not built from ``entries``
        by this code (another :data:`FORMAT` or other content). ``digest``: their
        :func:`entries_digest` if the caller has it already."""
        size = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8:8 + size])
        if header.get("format") != FORMAT or header.get("digest") != (digest or entries_digest(entries)):
            return None
        body = memoryview(blob)[8 + size:]
        arrays, texts = {}, {}
        for name, spec in header["layout"].items():
            if spec[0] == "text":
                count, offset, length = spec[1], spec[2], spec[3]
                texts[name] = bytes(body[offset:offset + length]).decode().split("\n") if count else []
            else:
                dtype, count, offset = np.dtype(spec[0]), spec[1], spec[2]
                arrays[name] = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
        return cls(list(entries), header["digest"], arrays, texts,
                   {"max_idf": header["max_idf"], "strings": header["strings"]})

    # -- look-ups ---------------------------------------------------------------------------------

    def postings(self, word: int) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, bases)`` of the ``(entry, language)`` pairs holding word ``word``."""
        lo, hi = self.hit_ptr[word], self.hit_ptr[word + 1]
        return self.hit_key[lo:hi], self.hit_base[lo:hi]

    def phrase_postings(self, word: int) -> np.ndarray:
        """The phrasings (ids) holding word ``word``."""
        return self.phr_pid[self.phr_ptr[word]:self.phr_ptr[word + 1]]

    def trigram_rows(self, tri: int) -> tuple[np.ndarray, np.ndarray]:
        """``(strings, counts)`` of trigram ``tri``."""
        lo, hi = self.tri_ptr[tri], self.tri_ptr[tri + 1]
        return self.tri_row[lo:hi], self.tri_tf[lo:hi]

    def bm25_best(self, chosen: list[str], answer_weight: float, limit: int) -> list[tuple[int, float]]:
        """``(entry, bm25 of its best string)`` for an ``OR`` of the trigrams ``chosen``,
        best (most negative, as FTS5's ``rank``) first, ties by entry, at most ``limit``;
        an answer's bm25 is multiplied by ``answer_weight``.

        Per string the terms' parts ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))``
        are added in the order of ``chosen``, as FTS5 does. Only the rows of the chosen
        trigrams are read, and at most :data:`MAX_BM25_ROWS` of them: past that the
        commonest trigrams are left out (a query's rarest trigrams always count), so the
        work stays bounded however many entries share the query's frequent trigrams.
        """
        ids = [i for i in (self.tri_id.get(term) for term in chosen) if i is not None]
        if not ids:
            return []
        ptr = self.tri_ptr
        sizes = [int(ptr[i + 1] - ptr[i]) for i in ids]
        if sum(sizes) > MAX_BM25_ROWS:
            kept: set[int] = set()
            total = 0
            for k in sorted(range(len(ids)), key=lambda k: (sizes[k], k)):  # rarest first
                if kept and total + sizes[k] > MAX_BM25_ROWS:
                    break
                kept.add(k)
                total += sizes[k]
            ids = [ids[k] for k in sorted(kept)]
            sizes = [sizes[k] for k in sorted(kept)]
        rows = np.concatenate([self.tri_row[ptr[i]:ptr[i + 1]] for i in ids])
        tf = np.concatenate([self.tri_tf[ptr[i]:ptr[i + 1]] for i in ids]).astype(np.float64)
        idf = np.repeat(np.array([self._tri_idf(int(self.tri_df[i])) for i in ids]), sizes)
        totals = np.bincount(rows, weights=idf * (tf * (K1 + 1)) / (tf + self.str_norm[rows]), minlength=self.strings)
        # Per row read (a string as often as it holds chosen trigrams: the minimum per entry
        # does not mind repeats, and it spares a pass over every string of the index).
        scores = -totals[rows] * np.where(self.str_answer[rows], answer_weight, 1.0)
        per_entry = np.zeros(len(self.entries))
        np.minimum.at(per_entry, self.str_entry[rows], scores)
        found = np.flatnonzero(per_entry)
        best = per_entry[found]
        if found.size > limit:
            keep = np.argpartition(best, limit - 1)[:limit]
            found, best = found[keep], best[keep]
        order = np.lexsort((found, best))
        return list(zip(found[order].tolist(), best[order].tolist(), strict=True))

    def _tri_idf(self, df: int) -> float:
        return max(1e-6, math.log((self.strings - df + 0.5) / (df + 0.5)))

    def trigram_df(self, term: str) -> int:
        """Strings holding the trigram ``term`` (0 if none)."""
        i = self.tri_id.get(term)
        return 0 if i is None else int(self.tri_df[i])

    def trigram_idf(self, term: str) -> float:
        """FTS5's idf of a trigram (at least 1e-6, as FTS5 clamps it)."""
        return self._tri_idf(self.trigram_df(term))

    def questions(self, entry: int, lang: str) -> list[str]:
        """The processed questions and phrasings of ``entry`` in ``lang`` (fuzzy choices)."""
        key = entry * NL + LANG_INDEX[lang]
        return self.q_text[self.q_ptr[key]:self.q_ptr[key + 1]]

    def word_weight(self, word: str) -> float:
        """Weight of a dictionary word (the rarest word's for an unknown one)."""
        i = self.word_id.get(word)
        return _word_weight(word, self.max_idf) if i is None else float(self.weight[i])

    def vocab(self, script: str) -> list[str]:
        """The words spelling correction may pick in ``script``."""
        return self._spell[script][0] if script in self._spell else []

    def similar(self, word: str, script: str) -> tuple[tuple[int, float], ...]:
        """Dictionary words (ids) matching ``word`` with their similarity: itself, other
        forms (shared prefix, see :func:`knowledge.text.prefix_sim`), and spellings within
        :data:`~knowledge.text.FUZZY_CUTOFF` (rapidfuzz ``fuzz.ratio``). Cached per word."""
        cached = self._similar.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        known = word in self.word_id
        if known:
            found[word] = 1.0
        if script != "cjk" and len(word) >= PREFIX and not word.isdigit():
            stem = word[:PREFIX]
            words = self.prefix_words
            for i in range(bisect.bisect_left(words, stem), len(words)):
                other = words[i]
                if not other.startswith(stem):
                    break
                sim = prefix_sim(word, other)
                if sim > found.get(other, 0.0):
                    found[other] = sim
        if not known and script != "cjk" and len(word) >= MIN_FUZZY_LEN and not word.isdigit():
            for other, score, _ in process.extract(word, self.near(word, script), scorer=fuzz.ratio, processor=None,
                                                   score_cutoff=FUZZY_CUTOFF, limit=None):
                sim = score / 100.0 * 0.95  # a correction is never as good as the word itself
                if sim > found.get(other, 0.0):
                    found[other] = sim
        result = tuple((self.word_id[w], sim) for w, sim in found.items())
        if len(self._similar) > 20000:
            self._similar.clear()
        self._similar[word] = result
        return result

    def near(self, word: str, script: str) -> list[str]:
        """The vocabulary words of ``script`` that ``fuzz.ratio`` could score at least
        :data:`~knowledge.text.FUZZY_CUTOFF` against ``word``: all of them, as far as the
        result goes.

        ``fuzz.ratio`` is 100 * (1 - d / (la + lb)) with d the insertions and deletions
        turning one word into the other, and d is at least the length difference and at
        least the number of letters in one word only (a bit set of 64 letters may merge
        two letters, which only lowers that count). Words whose lower bound already
        misses the cut-off are dropped before rapidfuzz sees them: typically 2 % of a
        5,000-word vocabulary are left.
        """
        if script not in self._spell:
            return []
        words, _ids, bits, lengths = self._spell[script]
        size = len(word)
        lower = np.maximum(np.bitwise_count(bits ^ np.uint64(letter_bits(word))), np.abs(lengths - size))
        keep = np.flatnonzero(lower * 100 <= (100 - FUZZY_CUTOFF) * (lengths + size))
        return [words[i] for i in keep.tolist()]


_CHUNK = 20000
"""Strings whose trigrams are extracted in one numpy pass (bounds the memory of a build)."""


def _trigram_postings(folded: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Trigrams inside the words of ``folded`` (strings numbered by position):
    ``(trigrams, ptr, strings, counts)``, the postings of trigram ``i`` being
    ``strings[ptr[i]:ptr[i + 1]]`` (ascending) with how often each holds it.

    Vectorised: a chunk of strings becomes one array of code points, a trigram at each
    position not touching a space or a string boundary is the 63-bit number of its three
    code points, and ``np.unique`` counts (trigram, string) pairs.
    """
    ids: dict[int, int] = {}
    parts_tri, parts_row, parts_tf = [], [], []
    for start in range(0, len(folded), _CHUNK):
        chunk = folded[start:start + _CHUNK]
        text = "\n".join(chunk) + "\n"
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        if len(cps) < 3:
            continue
        rows = np.repeat(np.arange(start, start + len(chunk), dtype=np.int64), [len(x) + 1 for x in chunk])
        gap = (cps == 32) | (cps == 10)
        ok = ~(gap[:-2] | gap[1:-1] | gap[2:])
        keys = ((cps[:-2] << np.uint64(42)) | (cps[1:-1] << np.uint64(21)) | cps[2:])[ok]
        uniq, inverse = np.unique(keys, return_inverse=True)
        local = np.fromiter((ids.setdefault(k, len(ids)) for k in uniq.tolist()), dtype=np.int64, count=len(uniq))
        pairs, counts = np.unique(local[inverse] * len(folded) + rows[:-2][ok], return_counts=True)
        parts_tri.append((pairs // len(folded)).astype(np.int32))
        parts_row.append((pairs % len(folded)).astype(np.int32))
        parts_tf.append(np.minimum(counts, 65535).astype(np.uint16))
    if not parts_tri:
        return [], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint16)
    tri = np.concatenate(parts_tri)
    order = np.argsort(tri, kind="stable")  # by trigram, strings ascending within each
    ptr = np.zeros(len(ids) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(tri, minlength=len(ids)))
    mask = (1 << 21) - 1
    names = [chr(k >> 42) + chr((k >> 21) & mask) + chr(k & mask) for k in ids]
    return names, ptr, np.concatenate(parts_row)[order], np.concatenate(parts_tf)[order]


class _Numbering(dict):
    """Numbers keys in order of first look-up."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


def _word_weight(word: str, idf: float) -> float:
    """idf of a dictionary word, question words and Chinese glue bigrams discounted."""
    if word in QUESTION_WORDS or word in INTENT_WORDS:
        return idf * QUESTION_WORD_WEIGHT
    if any(ch in CJK_STOP_CHARS for ch in word) and dominant_script(word) == "cjk":
        return idf * CJK_STOP_WEIGHT
    return idf

