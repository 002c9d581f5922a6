"""Text processing shared by the FAQ index, the queries and the stored strings.

A leaf module (it imports nothing of the project): :func:`fold` normalises the FAQ's
strings (for the index, and in :mod:`storage.faq` for the FTS5 comparison table) and
every query, so both always agree; :func:`content_tokens`, :func:`terms` and :func:`trigrams` cut
folded text into the units the search engine (:mod:`knowledge.search`) matches.

1. **Normalise** (:func:`fold`): Unicode compatibility forms, case folding, accents,
   Arabic diacritics and hamza forms removed, ``rapidfuzz.utils.default_process`` for
   punctuation.
2. **Content words** (:func:`content_tokens`, :func:`terms`): per-script stopword and
   filler lists (English, French and Spanish share the Latin list) drop "what",
   "comment", "что", "ما", "什么", "exactly"..., so "weather in Paris" is judged on
   *weather* and *paris* only; interrogatives ("when", "combien") are kept at half
   weight; "what is X?" adds the word *definition* in the query's language
   (:func:`query_terms`). Arabic gets light stemming. Chinese has no spaces: its runs
   become character bigrams.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from itertools import chain


_CHAR_MAP = {
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
_CHARS = re.compile("[" + "".join(re.escape(ch) for ch in _CHAR_MAP) + "]")
"""The characters of :data:`_CHAR_MAP`, replaced by one regex pass (``str.translate`` with a
dict looks up every character: four times slower on long text)."""


@functools.cache
def _marks() -> re.Pattern:
    """Every combining mark of the Basic Multilingual Plane (accents, Arabic harakat, the
    breve of й after NFKD decomposition) as one character class; built on first use."""
    marks = [cp for cp in range(0x0300, 0x10000) if unicodedata.combining(chr(cp))]
    ranges: list[list[int]] = []
    for cp in marks:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return re.compile("[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]+")


_DOTTED_NUMBER = re.compile(r"(?<=\d)[.,](?=\d)")
_DIGITS = re.compile(r"\d+")
"""Digit runs get spaces around them, so letters and digits become separate words (after
``default_process`` only letters, digits and spaces are left, and spaces are normalised)."""


_processor: Callable[[str], str] | None = None


def default_process(text: str) -> str:
    """``rapidfuzz.utils.default_process``, imported on first use (start-up: a command that never
    folds text, and ``run`` until its first question, do not pay for importing rapidfuzz)."""
    global _processor
    if _processor is None:
        from rapidfuzz.utils import default_process as processor

        _processor = processor
    return _processor(text)


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free text with single spaces.

    ``"Qu'est-ce que la NDT ?"`` -> ``"qu est ce que la ndt"``, ``"أراضي"`` -> ``"اراضي"``,
    ``"CRIC17"`` -> ``"cric 17"`` (letters and digits are separate words), ``"15.3.1"`` ->
    ``"1531"`` (a dotted number is one word: indicator 15.3.1 is not target 15.3).
    Used for the FTS ``norm`` column and for queries alike.
    """
    if not text:
        return ""
    if not text.isascii():  # NFKD, the marks and the character map change nothing in ASCII
        text = _CHARS.sub(lambda m: _CHAR_MAP[m.group()] or "", _marks().sub("", unicodedata.normalize("NFKD", text)))
    text = _DOTTED_NUMBER.sub("", text)
    text = _DIGITS.sub(r" \g<0> ", default_process(text))
    return " ".join(text.split())


class _Folded(dict):
    """Folded words, folded on first look-up."""

    def __missing__(self, word: str) -> str:
        value = self[word] = fold(word)
        return value


def fold_many(texts: list[str]) -> list[str]:
    """``[fold(t) for t in texts]``, folding each distinct word once.

    Every step of :func:`fold` is local to a word between white space (NFKD and the
    character maps go character by character, the dotted-number rule looks only at
    adjacent digits, punctuation becomes a space), so a string's fold is the folds of
    its words joined by spaces. A FAQ of 10,000 entries has a few ten thousand distinct
    words in millions of places: the regexes run once per distinct word.
    """
    folded = _Folded()
    words = folded.__getitem__
    return [" ".join(filter(None, map(words, text.split()))) for text in texts]


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


@functools.lru_cache(maxsize=65536)
def split_scripts(token: str) -> tuple[tuple[str, str], ...]:
    """Split a token where the script changes (``"ldn是什么"`` -> ``ldn``, ``是什么``)."""
    if token.isascii():
        return ((token, "other" if token.isdigit() else "latin"),)
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
    return tuple(parts)


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
exactly actually really basically simply simple plain words briefly nutshell please thanks thank hello hi
exactement vraiment simplement simples mots bref merci bonjour svp stp ca veut dire
exactamente realmente simplemente palabras breve gracias hola favor quiere decir
"""
_CYRILLIC_STOP = """
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще
нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом
себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под
будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда
зачем всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много
разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между
такое это такие каков какие каковы какое каким какую скажите расскажите объясните нужно ли
точно именно просто простыми словами кратко пожалуйста спасибо здравствуйте привет
"""
_ARABIC_STOP = """
ما ماذا هل هو هي هم هن كيف لماذا متى اين أين من في على الى إلى عن مع او أو و ثم هذا هذه ذلك تلك التي الذي الذين
ان أن إن كان كانت يكون تكون لا لم لن قد كل بعض اي أي عند بين حول يمكن يجب نحن انا أنا انت أنت لي لنا لك له لها
بالضبط ببساطة بكلمات بسيطة باختصار شكرا مرحبا فضلك
"""
# Chinese: only question words and sentence-final particles that never occur inside a
# content word (single characters such as 有 or 会 do: 有机 "organic", 缔约方会议 "COP").
_CJK_STOP = sorted(
    """
什么是 是什么 什么 怎么样 怎么 怎样 如何 为什么 哪些 哪个 哪里 多少 请问 是否 能否 一下 我们 你们 他们
简单来说 简单地说 简单说 到底 究竟 谢谢 你好 您好
吗 呢 吧 啊
""".split(),
    key=len,
    reverse=True,
)


CJK_STOP_CHARS = frozenset("的了吗呢吧啊是在和与及或有要都也就这那个之其对把被给让比更不我你他她它们为于以而并从向由该些此")
"""Function characters: a Chinese bigram containing one ("是指", "线是") is mostly glue
between words, so it weighs :data:`CJK_STOP_WEIGHT` of its idf. (Not 会, 能, 指: 会议
"meeting", 能力 "capacity", 指标 "indicator".)"""
CJK_STOP_WEIGHT = 0.25


def _stopset(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


_QUESTION_WORDS = """
when why who where which many much quand pourquoi qui combien cuando donde quien quienes cuanto cuantos cuantas porque
когда почему зачем кто где сколько
متى لماذا اين أين كم
"""
QUESTION_WORDS: frozenset[str]
"""Interrogatives are not dropped like other stopwords: "when" tells a question about a
date from one about a definition. They weigh :data:`QUESTION_WORD_WEIGHT` of their idf."""
QUESTION_WORD_WEIGHT = 0.5

STOPWORDS: dict[str, frozenset[str]]
"""The stopwords of each script but Chinese's (folded, the question words left out)."""


@functools.cache
def _word_sets() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """:data:`QUESTION_WORDS` and :data:`STOPWORDS`, folded on first use (start-up: folding
    needs rapidfuzz, which commands that never fold text do not import)."""
    question = frozenset(fold(_QUESTION_WORDS).split())
    stop = {"latin": _stopset(_LATIN_STOP) - question, "cyrillic": _stopset(_CYRILLIC_STOP) - question,
            "arabic": _stopset(_ARABIC_STOP) - question}
    return question, stop


def __getattr__(name: str) -> object:  # PEP 562: the word sets above are built when first asked for
    if name == "QUESTION_WORDS":
        return _word_sets()[0]
    if name == "STOPWORDS":
        return _word_sets()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CJK_STOP_RE = re.compile("|".join(re.escape(w) for w in _CJK_STOP))
_AR_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال")
_AR_CLITICS = ("و", "ف", "ب", "ل")
_AR_SUFFIXES = ("ها", "هم", "نا", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def light_stem(token: str, script: str) -> str:
    """Arabic light stemming (after Larkey's light10): drop the article with its
    clitics and one common suffix, keeping at least three letters
    (``الأراضي`` -> ``اراض``, ``لبلدنا`` -> ``بلد``). Other scripts are unchanged:
    their word forms are matched by shared prefix (see :data:`PREFIX`)."""
    if script != "arabic":
        return token
    for prefix in _AR_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            token = token[len(prefix):]
            break
    else:
        if len(token) >= 5 and token[0] in _AR_CLITICS:
            token = token[1:]
    for suffix in _AR_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def content_tokens(folded: str) -> list[tuple[str, str]]:
    """``(token, script)`` of the words that carry meaning, in order.

    Stopwords - function words and conversational fillers ("exactly", "in simple
    words", "please"), which are rare in the FAQ and would otherwise weigh like its
    rarest terms - are removed per script; Chinese runs are cut at question words.
    If nothing is left (``"what is it"``), all tokens are kept.
    """
    words = folded.split()
    kept = list(chain.from_iterable(map(_KEPT.__getitem__, words)))
    return kept or list(chain.from_iterable(map(_PARTS.__getitem__, words)))


def term_units(folded: str) -> list[str]:
    """The words of :func:`terms` without their scripts (what the index stores)."""
    words = folded.split()
    units = dict.fromkeys(chain.from_iterable(map(_UNITS.__getitem__, words)))
    if units or not words:
        return list(units)
    return [word for word, _script in terms(folded)]  # nothing but stopwords: every token counts


def term_units_flat(folded: list[str]) -> tuple[list[str], list[int]]:
    """:func:`term_units` of many strings at once: every string's units in order, repeats
    within a string kept (the index removes them in bulk), and how many each string has."""
    split = [text.split() for text in folded]
    per_word = list(map(_UNITS.__getitem__, chain.from_iterable(split)))
    counts: list[int] = []
    units: list[str] = []
    at = 0
    for text, words in zip(folded, split, strict=True):
        mine = per_word[at:at + len(words)]
        at += len(words)
        size = sum(map(len, mine))
        if size or not words:
            units.extend(chain.from_iterable(mine))
        else:  # nothing but stopwords: every token counts
            extra = term_units(text)
            units.extend(extra)
            size = len(extra)
        counts.append(size)
    return units, counts


class _WordCache(dict):
    """Per folded word, one of :func:`_word_tokens`' results (bounded: cleared when large,
    as user queries keep bringing new words)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, word: str):
        if len(self) > 200_000:
            self.clear()
        value = self[word] = self.make(word)
        return value


def _units_of(word: str) -> tuple[str, ...]:
    out: list[str] = []
    for token, script in _word_tokens(word)[1]:
        if script == "cjk":
            out.extend(token[i:i + 2] for i in range(len(token) - 1))
        else:
            out.append(token)
    return tuple(out)


def _word_tokens(word: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """One folded word's ``(every part, the parts that carry meaning)`` for
    :func:`content_tokens` (cached per word by :class:`_WordCache`: a FAQ of 10,000
    entries has a few ten thousand distinct words in millions of places)."""
    everything: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    for part, script in split_scripts(word):
        if script == "cjk":
            everything.append((part, script))
            for piece in _CJK_STOP_RE.split(part):
                if piece:
                    kept.append((piece, script))
            continue
        everything.append((part, script))
        question_words, stopwords = _word_sets()
        if part in stopwords.get(script, ()):
            continue
        kept.append((part if part in question_words else light_stem(part, script), script))
    return tuple(everything), tuple(kept)


_PARTS = _WordCache(lambda word: _word_tokens(word)[0])
_KEPT = _WordCache(lambda word: _word_tokens(word)[1])
_UNITS = _WordCache(_units_of)


def trigrams(token: str) -> list[str]:
    """Character trigrams of a token, as the FTS5 ``trigram`` tokenizer indexes them."""
    return [token[i : i + 3] for i in range(len(token) - 2)]


def dominant_script(folded: str) -> str:
    """The script most of the letters of ``folded`` are written in (``other`` if none)."""
    counts: Counter = Counter()
    for word in folded.split():
        for part, script in split_scripts(word):
            counts[script] += len(part)
    counts.pop("other", None)
    return counts.most_common(1)[0][0] if counts else "other"


# -- matching units ---------------------------------------------------------------------

PREFIX = 5
"""Words sharing their first five letters are taken as forms of one word
(``penalised``/``penalty``, ``деградации``/``деградацией``): cheap, language-neutral stemming."""
MIN_FUZZY_LEN = 5
"""Shorter words only match exactly (edit distance on four letters is noise: miss/mismos)."""
FUZZY_CUTOFF = 80
"""``fuzz.ratio`` at least this for a misspelt word to count as the dictionary word."""


_DEFINITION_PATTERNS = [
    (re.compile(r"^(what is|what s|whats|define|meaning of)\b"), "definition", "latin"),
    (re.compile(r"^(qu est ce que?|qu est ce qu|c est quoi|que signifie|que veut dire)\b|\b(ca veut dire quoi|c est quoi)$"),
     "definition", "latin"),
    (re.compile(r"^(que es|que significa|que quiere decir)\b"), "definicion", "latin"),
    (re.compile(r"^(что такое|что означает|что значит)\b"), "определение", "cyrillic"),
    (re.compile(r"^(ما هو|ما هي|ماذا يعني|ما معني)\b"), "تعريف", "arabic"),
    (re.compile(r"^什么是|是什么$|是什么意思$|什么意思$|是指什么$"), "定义", "cjk"),
]
""""What is X?" asks for a definition: the word *definition* (in the query's language) is
added, so entries offering one ("LDN definition", "définition de la NDT") come first."""

_COUNTED = re.compile(
    r"(?<![^ ])(two|three|four|five|seven|deux|trois|quatre|cinq|sept|dos|tres|cuatro|cinco|siete"
    r"|два|две|три|четыре|пять|семь|[2-7])(?![^ ])"
    r"|(?<![^ ])(ال)?(ثلاث|اربع|خمس|سبع)"
    r"|[两二三四五七][个种类项大]"
)
"""A number of things ("what are the three indicators", "ما هي المؤشرات الثلاثة",
"三个指标是什么") asks for a list, not a definition: no *definition* is added. Plural
"what are" / "que son" are not definition patterns for the same reason."""


INTENT_WORDS = frozenset(word for _, word, _ in _DEFINITION_PATTERNS)


def intent_terms(folded: str) -> list[tuple[str, str]]:
    """Words implied by the form of the question (see :data:`_DEFINITION_PATTERNS`)."""
    if _COUNTED.search(folded):
        return []
    for pattern, word, script in _DEFINITION_PATTERNS:
        if pattern.search(folded):
            return [(word, script)]
    return []


def terms(folded: str) -> list[tuple[str, str]]:
    """The units matched word against word: content words, and Chinese character bigrams.

    A lone Chinese character (left between two question words) is too ambiguous to
    count and is dropped. Order kept, duplicates removed.
    """
    out: dict[tuple[str, str], None] = {}
    for token, script in content_tokens(folded):
        if script == "cjk":
            for i in range(len(token) - 1):
                out[(token[i : i + 2], script)] = None
        else:
            out[(token, script)] = None
    return list(out)


def query_terms(folded: str) -> list[tuple[str, str]]:
    """:func:`terms` of a query, plus the words its form implies (:func:`intent_terms`)."""
    words = terms(folded)
    for word in intent_terms(folded):
        if word not in words:
            words.append(word)
    return words


def letter_bits(word: str) -> int:
    """The set of letters of ``word`` as 64 bits (code point modulo 64)."""
    bits = 0
    for ch in set(word):
        bits |= 1 << (ord(ch) & 63)
    return bits


def prefix_sim(a: str, b: str) -> float:
    """Similarity of two forms of a word from their common prefix: 0 unless it has at
    least :data:`PREFIX` letters and half the longer word (``count`` is not ``counterpart``)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    longest = max(len(a), len(b))
    if n < PREFIX or n * 2 < longest:
        return 0.0
    return 0.6 + 0.4 * n / longest


SCRIPT_LANGS = {"latin": ("en", "fr", "es"), "cyrillic": ("ru",), "arabic": ("ar",), "cjk": ("zh",)}
