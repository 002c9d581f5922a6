"""FAQ search: SQLite FTS5 (trigram, bm25) and rapidfuzz, merged into one score in [0, 1].

How a query is answered
-----------------------
1. **Normalise** (:func:`fold`): Unicode compatibility forms, case folding, accents and
   Arabic diacritics/hamza forms removed, ``rapidfuzz.utils.default_process`` for
   punctuation. The same function builds the ``norm`` column the FTS index is built
   on, so the index and the queries always agree.
2. **Content words** (:func:`content_tokens`): per-script stopword lists (English,
   French and Spanish share the Latin list) drop "what", "comment", "что", "ما",
   "什么" ... so "weather in Paris" is judged on *weather* and *paris* only. Chinese
   has no spaces; its runs are split at function characters instead.
3. **Lexical signal - FTS5 bm25.** Every content word becomes its character
   trigrams, each quoted (``"deg" OR "egr" ...``), so user text never reaches FTS5 as
   syntax, Chinese is matched without a word segmenter, and a typo only loses a few
   trigrams. bm25 is unbounded, so it is divided by the bm25 an ideal string holding
   every query trigram once would get (the sum of the trigrams' idf): a query-length
   independent figure in [0, 1] saying how much of the query (weighted by rarity) the
   best string of the entry contains.
4. **Fuzzy signal - rapidfuzz.** The candidates' questions and phrasings in the
   query's script are scored with an explicit scorer on pre-processed strings
   (``default_process`` + stopwords removed, computed once per knowledge version).
5. **Merge**: ``score = W_FUZZY * fuzzy + W_BM25 * bm25`` per entry (each the max over
   the entry's strings), then a small penalty when the runner-up is nearly as good
   (an ambiguous query is more likely to be answered wrongly). Hits below
   :data:`THRESHOLD` are dropped: an empty list means *abstain*.

See :data:`THRESHOLD` for the calibration.
"""
from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import sqlite_utils
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from knowledge.faq import FaqEntry

MAX_QUERY_CHARS = 300
"""Longer input is cut: nobody types a 300-character FAQ question, and it bounds the work."""
MAX_TERMS = 64
"""At most this many distinct trigrams go to FTS5."""
FTS_LIMIT = 200
"""Strings fetched from FTS5 per query (about a tenth of the index)."""
CANDIDATES = 25
"""Entries re-scored with rapidfuzz."""

W_FUZZY = 0.5
W_BM25 = 0.5
ANSWER_WEIGHT = 0.6
"""A match in an answer counts less than one in a question or phrasing."""
MARGIN = 0.0
MARGIN_PENALTY = 0.0

THRESHOLD = 0.5
"""Calibrated abstention threshold (see module docstring and :mod:`bench.search`)."""
RELATED_THRESHOLD = 0.4
"""Hits after the first are shown only above this score (and only if the first passed)."""

# -- normalisation ---------------------------------------------------------------------

_CHAR_MAP = str.maketrans(
    {
        "ٱ": "ا",  # alef wasla
        "ى": "ي",  # alef maqsura
        "ة": "ه",  # ta marbuta
        "ـ": None,  # tatweel
        "\u200c": None,
        "\u200d": None,
        "\u200e": None,
        "\u200f": None,
        "\u061c": None,
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic digits
    }
)


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free text with single spaces.

    ``"Qu'est-ce que la NDT ?"`` -> ``"qu est ce que la ndt"``, ``"أراضي"`` -> ``"اراضي"``.
    Used for the FTS ``norm`` column and for queries alike.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_CHAR_MAP)
    return " ".join(default_process(text).split())


def script_of(ch: str) -> str:
    """``latin``, ``cyrillic``, ``arabic``, ``cjk`` or ``other`` (digits, symbols)."""
    code = ord(ch)
    if ch.isdigit():
        return "other"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
        or 0xAC00 <= code <= 0xD7AF
    ):
        return "cjk"
    if ch.isalpha():
        return "latin"
    return "other"


def _split_scripts(token: str) -> list[tuple[str, str]]:
    """Split a token where the script changes (``"ldn是什么"`` -> ``ldn``, ``是什么``)."""
    parts: list[tuple[str, str]] = []
    current, current_script = "", None
    for ch in token:
        script = script_of(ch)
        if script == "other" and current_script is not None and current_script != "cjk":
            script = current_script  # digits stay with their word: "m0002", "15"
        if current and script != current_script:
            parts.append((current, current_script or "other"))
            current = ""
        current += ch
        current_script = script
    if current:
        parts.append((current, current_script or "other"))
    return parts


_LATIN_STOP = """
a an the of to in on at for from by with about into as and or but not no nor so if then than this that these those
it its is are was were be been being am do does did done doing have has had having can could should would will shall
may might must i me my we our us you your he she they them their his her what which who whom whose when where why how
there here please tell explain know want need get any some all each every also just more most very much many
de du des la le les un une et ou est sont que qui quoi quel quelle quels quelles quand comment pourquoi ce cet cette
ces se sa son ses au aux en dans par pour sur avec sans pas ne plus il elle ils elles on nous vous je me moi mon ma mes
notre nos votre vos leur leurs y a-t-il peut peux faut faire fait etre avoir ai as avons avez ont qu c d l j n s t
el los las del al una unos unas y o u es son que cual cuales cuando como donde por para con sin sobre entre se su sus
lo le les mi mis nuestro nuestra tu tus yo hay puede pueden debe hacer ser estar esta este esto estos estas eso
qu est quien quienes
"""
_CYRILLIC_STOP = """
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще
нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом
себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под
будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда
зачем всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много
разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между
такое это такие каков какие каковы какое каким какую скажите расскажите объясните нужно ли
"""
_ARABIC_STOP = """
ما ماذا هل هو هي هم هن كيف لماذا متى اين أين من في على الى إلى عن مع او أو و ثم هذا هذه ذلك تلك التي الذي الذين
ان أن إن كان كانت يكون تكون لا لم لن قد كل بعض اي أي عند بين حول يمكن يجب نحن انا أنا انت أنت لي لنا لك له لها
"""
# Chinese: only question words and sentence-final particles that never occur inside a
# content word (single characters such as 有 or 会 do: 有机 "organic", 缔约方会议 "COP").
_CJK_STOP = sorted(
    """
什么是 是什么 什么 怎么样 怎么 怎样 如何 为什么 哪些 哪个 哪里 多少 请问 是否 能否 一下 我们 你们 他们
吗 呢 吧 啊
""".split(),
    key=len,
    reverse=True,
)


def _stopset(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


STOPWORDS = {
    "latin": _stopset(_LATIN_STOP),
    "cyrillic": _stopset(_CYRILLIC_STOP),
    "arabic": _stopset(_ARABIC_STOP),
}
_CJK_STOP_RE = re.compile("|".join(re.escape(w) for w in _CJK_STOP))
_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def _light_stem(token: str, script: str) -> str:
    """Drop the Arabic article and its clitics (``الأراضي`` -> ``اراضي``); other scripts unchanged."""
    if script == "arabic":
        for prefix in _AR_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                return token[len(prefix):]
    return token


def content_tokens(folded: str) -> list[tuple[str, str]]:
    """``(token, script)`` of the words that carry meaning, in order.

    Stopwords are removed per script; Chinese runs are cut at function characters.
    If nothing is left (``"what is it"``), all tokens are kept.
    """
    everything: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    for word in folded.split():
        for part, script in _split_scripts(word):
            if script == "cjk":
                everything.append((part, script))
                for piece in _CJK_STOP_RE.split(part):
                    if piece:
                        kept.append((piece, script))
                continue
            everything.append((part, script))
            if part in STOPWORDS.get(script, ()):
                continue
            kept.append((_light_stem(part, script), script))
    return kept or everything


def trigrams(token: str) -> list[str]:
    """Character trigrams of a token, as the FTS5 ``trigram`` tokenizer indexes them."""
    return [token[i : i + 3] for i in range(len(token) - 2)]


def _fts_quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def dominant_script(folded: str) -> str:
    counts = Counter(script_of(ch) for ch in folded if not ch.isspace())
    counts.pop("other", None)
    return counts.most_common(1)[0][0] if counts else "other"


# -- the engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One search result: the entry (all its languages) and a score in [0, 1]."""

    entry: FaqEntry
    score: float

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass
class _Query:
    text: str
    key_by_script: dict[str, str]
    scripts: set[str]
    terms: list[str]
    weight: float  # sum of idf of the FTS terms: bm25 of an ideal match


class FaqSearch:
    """Hybrid FAQ search over the entries in the database.

    Build one per process with a migrated sqlite-utils ``Database`` (knowledge loaded by
    :func:`knowledge.faq.load_knowledge`). It reads the entries once and rebuilds its
    in-memory structures only when the knowledge version in the database changes, which
    :meth:`refresh_if_changed` checks with one tiny query (done before every search,
    so a ``faq reload`` or an approved helpdesk answer from another process is seen).
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        threshold: float | None = None,
        related_threshold: float | None = None,
        scorer=fuzz.WRatio,
    ):
        self.db = db
        self.threshold = THRESHOLD if threshold is None else threshold
        self.related_threshold = RELATED_THRESHOLD if related_threshold is None else related_threshold
        self.scorer = scorer
        self.version = -1
        self._lock = threading.Lock()
        self._entries: list[FaqEntry] = []
        self._by_id: dict[str, int] = {}
        self._sql: str | None = None
        self.refresh_if_changed()

    # -- knowledge ----------------------------------------------------------------------

    def refresh_if_changed(self) -> bool:
        """Reload the entries if the knowledge version changed; True if it did."""
        from storage import faq as store

        version = store.knowledge_version(self.db)
        if version == self.version:
            return False
        with self._lock:
            if version != self.version:
                self._build(store.read_entries(self.db))
                self.version = version
        return True

    def _build(self, entries: list[FaqEntry]) -> None:
        """Precompute everything per-query work needs: processed strings and trigram idf."""
        by_id = {entry.id: i for i, entry in enumerate(entries)}
        # entry index -> script -> processed question strings
        strings: list[dict[str, list[str]]] = []
        group_choices: dict[str, list[str]] = {}
        group_owner: dict[str, list[int]] = {}
        df: Counter = Counter()
        rows = 0
        for i, entry in enumerate(entries):
            per_script: dict[str, list[str]] = {}
            for text in entry.texts.values():
                for s in (*text.questions(), text.a):
                    folded = fold(s)
                    rows += 1
                    df.update(set(trigrams(folded)))
                    if s is text.a:
                        continue
                    script = dominant_script(folded)
                    key = " ".join(tok for tok, _ in content_tokens(folded))
                    if key and key not in per_script.get(script, ()):
                        per_script.setdefault(script, []).append(key)
                        group_choices.setdefault(script, []).append(key)
                        group_owner.setdefault(script, []).append(i)
            strings.append(per_script)
        self._entries = entries
        self._by_id = by_id
        self._strings = strings
        self._group_choices = group_choices
        self._group_owner = group_owner
        self._rows = max(rows, 1)
        self._df = df

    def entries(self) -> list[FaqEntry]:
        """Every entry: YAML ones in file order, then promoted ones."""
        self.refresh_if_changed()
        return list(self._entries)

    def get(self, entry_id: str) -> FaqEntry | None:
        self.refresh_if_changed()
        index = self._by_id.get(entry_id)
        return None if index is None else self._entries[index]

    def by_topic(self, topic: str) -> list[FaqEntry]:
        self.refresh_if_changed()
        return [entry for entry in self._entries if entry.topic == topic]

    def topics(self) -> list[str]:
        """Topic ids that have entries, in order of first appearance."""
        self.refresh_if_changed()
        return list(dict.fromkeys(entry.topic for entry in self._entries))

    # -- scoring --------------------------------------------------------------------------

    def _idf(self, term: str) -> float:
        n = self._df.get(term, 0)
        return max(1e-6, math.log((self._rows - n + 0.5) / (n + 0.5)))

    def _prepare(self, query: str) -> _Query | None:
        folded = fold((query or "")[:MAX_QUERY_CHARS])
        tokens = content_tokens(folded)
        if not tokens:
            return None
        scripts = {script for _, script in tokens if script != "other"} or set(self._group_choices)
        key_by_script = {}
        for script in scripts:
            words = [tok for tok, s in tokens if s == script or s == "other"]
            key_by_script[script] = " ".join(words)
        terms: list[str] = []
        seen = set()
        for tok, _ in tokens:
            for tri in trigrams(tok):
                if tri not in seen:
                    seen.add(tri)
                    terms.append(tri)
        terms = terms[:MAX_TERMS]
        weight = sum(self._idf(t) for t in terms)
        return _Query(folded, key_by_script, scripts, terms, weight)

    def _fts(self, prepared: _Query) -> dict[int, float]:
        """Entry index -> normalised bm25 in [0, 1] (best string of the entry)."""
        if not prepared.terms or prepared.weight <= 0:
            return {}
        from storage import faq as store

        match = " OR ".join(_fts_quote(t) for t in prepared.terms)
        result: dict[int, float] = {}
        for entry_id, _lang, kind, rank in store.fts_candidates(self.db, match, FTS_LIMIT):
            index = self._by_id.get(entry_id)
            if index is None:
                continue
            value = -rank / prepared.weight
            if kind == "a":
                value *= ANSWER_WEIGHT
            value = min(1.0, value)
            if value > result.get(index, 0.0):
                result[index] = value
        return result

    def _fuzzy(self, prepared: _Query, candidates: Iterable[int]) -> dict[int, float]:
        """Entry index -> best rapidfuzz score (0..1) of its strings in the query's scripts."""
        result: dict[int, float] = {}
        for script, key in prepared.key_by_script.items():
            if not key:
                continue
            choices: list[str] = []
            owners: list[int] = []
            for index in candidates:
                for s in self._strings[index].get(script, ()):
                    choices.append(s)
                    owners.append(index)
            for _choice, score, pos in process.extract(
                key, choices, scorer=self.scorer, processor=None, limit=None
            ):
                index = owners[pos]
                value = score / 100.0
                if value > result.get(index, 0.0):
                    result[index] = value
        return result

    def _fuzzy_candidates(self, prepared: _Query, limit: int) -> list[int]:
        """Fallback when FTS finds nothing (e.g. only 1-2 letter words): scan all strings."""
        found: dict[int, float] = {}
        for script, key in prepared.key_by_script.items():
            choices = self._group_choices.get(script)
            if not key or not choices:
                continue
            owners = self._group_owner[script]
            for _choice, score, pos in process.extract(
                key, choices, scorer=self.scorer, processor=None, limit=limit * 3
            ):
                index = owners[pos]
                found[index] = max(found.get(index, 0.0), score)
        return sorted(found, key=found.get, reverse=True)[:limit]

    def scored(self, query: str) -> list[tuple[int, float, float, float]]:
        """All candidates as ``(entry index, score, fuzzy, bm25)``, best first (for tuning)."""
        self.refresh_if_changed()
        if not self._entries:
            return []
        prepared = self._prepare(query)
        if prepared is None:
            return []
        lexical = self._fts(prepared)
        if lexical:
            candidates = sorted(lexical, key=lexical.get, reverse=True)[:CANDIDATES]
        else:
            candidates = self._fuzzy_candidates(prepared, CANDIDATES)
        fuzzy = self._fuzzy(prepared, candidates)
        out = []
        for index in candidates:
            f = fuzzy.get(index, 0.0)
            b = lexical.get(index, 0.0)
            out.append((index, W_FUZZY * f + W_BM25 * b, f, b))
        out.sort(key=lambda item: item[1], reverse=True)
        if len(out) >= 2 and MARGIN_PENALTY:
            gap = out[0][1] - out[1][1]
            if gap < MARGIN:
                first = out[0]
                out[0] = (first[0], first[1] - MARGIN_PENALTY * (MARGIN - gap), first[2], first[3])
        return out

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        """Best entries for ``query`` (any language), best first; ``[]`` means abstain."""
        ranked = self.scored(query)
        if not ranked or ranked[0][1] < self.threshold:
            return []
        hits = [Hit(self._entries[ranked[0][0]], round(min(1.0, ranked[0][1]), 4))]
        for index, score, _f, _b in ranked[1:]:
            if len(hits) >= limit or score < self.related_threshold:
                break
            hits.append(Hit(self._entries[index], round(min(1.0, score), 4)))
        return hits[: max(0, limit)]

    def best_score(self, query: str) -> float:
        """The score of the best candidate even below the threshold (0.0 if none), for miss logs."""
        ranked = self.scored(query)
        return round(min(1.0, max(0.0, ranked[0][1])), 4) if ranked else 0.0
