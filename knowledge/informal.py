"""Informal input: SMS spellings and Latin-script Russian and Arabic, for queries only.

A leaf module. :func:`expand_sms` rewrites chat abbreviations of folded text into the
words they stand for ("c koi" -> "c est quoi", "pk" -> "pourquoi", "xq" -> "porque",
"wat r" -> "what are"): applied to queries only, never to the FAQ's strings, so the
index does not depend on it. :func:`to_cyrillic` and :func:`to_arabic` transliterate
Latin-script Russian ("chto takoe neitralnyi balans") and Arabic, including the chat
digits of Arabizi (3 = ع, 7 = ح), into the folded forms :func:`knowledge.text.fold`
gives the FAQ's words; :class:`knowledge.search.Ranker` tries them when the query as
typed finds nothing.
"""
from __future__ import annotations

import re

SMS = {
    # French
    "c": "c est", "koi": "quoi", "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
    "kel": "quel", "kelle": "quelle", "kels": "quels", "ki": "qui", "ke": "que", "ds": "dans", "bcp": "beaucoup",
    "tt": "tout", "qd": "quand", "cmt": "comment", "cmnt": "comment", "dc": "donc", "mm": "meme", "jsp": "je ne sais pas",
    "svp": "s il vous plait", "stp": "s il te plait", "vs": "vous", "ns": "nous", "pr": "pour", "qq": "quelque",
    # Spanish
    "xq": "porque", "xk": "porque", "q": "que", "k": "que", "d": "de",
    "tb": "tambien", "tmb": "tambien", "pa": "para", "cdo": "cuando", "qndo": "cuando", "xfa": "por favor",
    # English
    "wat": "what", "wht": "what", "wut": "what", "wats": "what is", "whats": "what is", "r": "are", "u": "you",
    "ur": "your", "pls": "please", "plz": "please", "abt": "about", "hw": "how", "b4": "before", "bc": "because",
    "coz": "because", "cuz": "because", "govt": "government", "thx": "thanks", "ty": "thank you",
    # English negations typed without the apostrophe, as fold() writes them with it ("won't" -> "won t")
    "wont": "won t", "dont": "don t", "doesnt": "doesn t", "didnt": "didn t", "cant": "can t", "isnt": "isn t",
    "arent": "aren t", "wasnt": "wasn t", "werent": "weren t", "havent": "haven t", "hasnt": "hasn t",
    "couldnt": "couldn t", "shouldnt": "shouldn t", "wouldnt": "wouldn t",
}
"""Chat abbreviation (folded) -> the words it stands for. Only unambiguous ones: "y"
(Spanish "and", English "why") and "2"/"4" (numbers) are left alone."""


def expand_sms(folded: str) -> str:
    """``folded`` with its chat abbreviations written out (see :data:`SMS`)."""
    words = folded.split()
    if not any(w in SMS for w in words):
        return folded
    return " ".join(SMS.get(w, w) for w in words)


_CYRILLIC = [
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ju", "ю"),
    ("ya", "я"), ("ja", "я"), ("yo", "е"), ("ye", "е"), ("yi", "ыи"), ("iy", "ии"), ("'", "ь"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("j", "и"),
    ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"),
    ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "к"), ("y", "ы"), ("w", "в"), ("x", "кс"), ("q", "к"),
]
"""Latin -> Cyrillic, longest first, giving folded letters (й is folded to и)."""

_ARABIC = [
    ("th", "ث"), ("kh", "خ"), ("sh", "ش"), ("gh", "غ"), ("dh", "ذ"), ("aa", "ا"), ("ee", "ي"), ("ii", "ي"),
    ("oo", "و"), ("uu", "و"), ("ou", "و"), ("b", "ب"), ("t", "ت"), ("j", "ج"), ("h", "ه"), ("d", "د"), ("r", "ر"),
    ("z", "ز"), ("s", "س"), ("f", "ف"), ("q", "ق"), ("k", "ك"), ("l", "ل"), ("m", "م"), ("n", "ن"), ("w", "و"),
    ("y", "ي"), ("g", "غ"), ("p", "ب"), ("v", "ف"), ("c", "ك"), ("x", "كس"),
    ("3", "ع"), ("7", "ح"), ("5", "خ"), ("9", "ق"), ("2", "ا"), ("'", "ع"),
]
"""Latin (and Arabizi digits) -> Arabic consonants and long vowels; short vowels are
not written, as in Arabic."""

_WORD = re.compile(r"[a-z0-9']+")
_VOWELS = "aeiou"


def _translit(word: str, table: list[tuple[str, str]]) -> str:
    out, i = [], 0
    while i < len(word):
        for latin, letter in table:
            if word.startswith(latin, i):
                out.append(letter)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


TRANSLIT_MARKERS = {
    "cyrillic": frozenset("chto kak kakie kakoi kakoy kakaya kakoe takoe pochemu zachem gde kogda skolko mozhno nuzhno "
                          "dlya eto".split()),
    "arabic": frozenset("kayfa kaifa kayf limadha limaza madha maza hiya huwa howa shu shou ya3ni yaani ayna".split()),
}
"""Question words of Russian and Arabic typed in Latin letters ("chto takoe", "kayfa", "ma hiya"),
which no English, French or Spanish question uses: such a query is tried transliterated into
that script even when its Latin words already find something."""


def looks_transliterated(folded: str) -> tuple[str, ...]:
    """The scripts (``cyrillic``, ``arabic``) whose Latin-letter question words (:data:`TRANSLIT_MARKERS`) ``folded`` holds."""
    words = set(folded.split())
    return tuple(script for script, markers in TRANSLIT_MARKERS.items() if not markers.isdisjoint(words))


def to_cyrillic(text: str, keep: frozenset[str] = frozenset()) -> str:
    """Latin-script Russian in Cyrillic (``"chto takoe"`` -> ``"что такое"``); words in
    ``keep`` (the FAQ's own Latin words: "ldn", "trends") and digits are left alone."""
    return _WORD.sub(lambda m: m.group() if m.group() in keep or m.group().isdigit()
                     else _translit(m.group(), _CYRILLIC), text.lower())


_ARABIC_PROCLITICS = {"al": "ال", "el": "ال", "il": "ال", "lil": "لل", "li": "ل", "bi": "ب", "bil": "بال",
                      "wa": "و", "wal": "وال", "fa": "ف", "fil": "في ال"}
"""Article and one-letter particles typed as words of their own ("al-ard", "lil-istithmar",
"wa ma"): in Arabic they are written joined to the next word."""
_ARABIC_WORDS = {
    "huwa": "هو", "howa": "هو", "hua": "هو", "hiya": "هي", "hia": "هي", "heya": "هي", "madha": "ماذا", "matha": "ماذا",
    "maza": "ماذا", "kayfa": "كيف", "kaifa": "كيف", "kayf": "كيف", "keef": "كيف", "limadha": "لماذا", "limatha": "لماذا",
    "limaza": "لماذا", "mata": "متى", "ayna": "اين", "man": "من", "min": "من", "fee": "في", "ala": "على", "3ala": "على",
    "ila": "الى", "hal": "هل", "ya3ni": "يعني", "yaani": "يعني", "hatha": "هذا",
    "hadha": "هذا", "hadhihi": "هذه", "hathihi": "هذه", "alladhi": "الذي", "allati": "التي", "3an": "عن", "ma3a": "مع",
    "aw": "او", "kam": "كم", "bayna": "بين", "bayn": "بين",
}
"""Arabic function words as Latin letters spell them (their vowels are written: "huwa" is هو, not هوا)."""
_APOSTROPHES = re.compile("[\u2019\u2018`\u02bf\u02be\u02bc]")
_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1")


def _arabic_word(word: str) -> str:
    if word.isdigit():
        return word
    if word in _ARABIC_WORDS:
        return _ARABIC_WORDS[word]
    if word in _ARABIC_PROCLITICS:
        return _ARABIC_PROCLITICS[word] + "\u2060"  # joined to the next word below
    word = _DOUBLED.sub(r"\1", word)  # a doubled consonant is one letter (shadda): "fanniya", "nuqaddim"
    if word[0] in _VOWELS:
        word = "ا" + word[1:] if not word.startswith(("ee", "ii", "oo", "uu", "aa")) else word
    last = word[-1]
    tail = {"a": "ا", "i": "ي", "e": "ي", "o": "و", "u": "و"}.get(last, "") if len(word) > 1 else ""
    body = word[:-1] if tail else word
    body = _translit(body, _ARABIC)
    return "".join(ch for ch in body if ch not in _VOWELS) + tail


def to_arabic(text: str, keep: frozenset[str] = frozenset()) -> str:
    """Latin-script (and Arabizi) Arabic in Arabic letters (``"tahyeed athar"`` -> ``"تحييد اثر"``
    up to ح/ه); words in ``keep`` and digits are left alone."""
    text = _APOSTROPHES.sub("'", text.lower())
    out = _WORD.sub(lambda m: m.group() if m.group() in keep else _arabic_word(m.group()), text)
    return re.sub("\u2060[ -]?", "", re.sub("\u2060[ -]?(?=[a-z0-9])", " ", out))


_SYNONYM_LIST = [
    # another word for what an entry says: "binding" targets are what target-what calls "mandatory"
    ("binding", "mandatory"), ("compulsory", "mandatory"), ("obligatory", "mandatory"),
    ("contraignant", "obligatoire"), ("contraignante", "obligatoire"), ("contraignants", "obligatoire"),
    ("contraignantes", "obligatoire"), ("vinculante", "obligatorio"), ("vinculantes", "obligatorio"),
    ("ملزم", "الزامي"), ("约束力", "强制"),
    # plural acronyms: the FAQ names one NDC, NAP, NBSAP, SDG at a time
    ("ndcs", "ndc"), ("naps", "nap"), ("nbsaps", "nbsap"), ("sdgs", "sdg"),
    # a specialist is what the FAQ calls an expert
    ("specialist", "expert"), ("specialists", "experts"), ("specialiste", "expert"), ("specialistes", "experts"),
    ("especialista", "experto"), ("especialistas", "expertos"), ("специалист", "эксперт"), ("специалиста", "эксперта"),
    ("специалисту", "эксперту"), ("специалистов", "экспертов"), ("متخصص", "خبير"), ("اخصائي", "خبير"),
    # the programme's helpdesk written as two words
    ("help desk", "helpdesk"), ("service desk", "helpdesk"),
    # the sub-indicators, the land cover and One Out, All Out as users name them
    ("次级指标", "子指标"), ("分指标", "子指标"), ("土地覆被", "土地覆盖"),
    # a tool that crashes, freezes or is buggy: what the FAQ calls an error
    ("crash", "error"), ("crashes", "error"), ("crashing", "error"), ("crashed", "error"), ("freezes", "error"),
    ("freezing", "error"), ("bug", "error"), ("bugs", "error"), ("buggy", "error"), ("glitch", "error"),
    ("plantage", "erreur"), ("ca plante", "erreur"), ("bogue", "erreur"), ("beug", "erreur"), ("beugue", "erreur"),
    ("se cuelga", "error"), ("se bloquea", "error"), ("fallo", "error"),
    ("вылетает", "ошибка"), ("зависает", "ошибка"), ("глючит", "ошибка"), ("сбой", "ошибка"), ("баг", "ошибка"),
    ("يتعطل", "خطا"), ("تعطل", "خطا"), ("ينهار", "خطا"),
    ("崩溃", "错误"), ("闪退", "错误"), ("卡死", "错误"), ("报错", "错误"), ("死机", "错误"),
    # computing in Russian: the FAQ's verb is рассчитывать ("что он рассчитывает")
    ("считает", "рассчитывает"), ("считают", "рассчитывают"), ("посчитать", "рассчитать"), ("подсчитать", "рассчитать"),
    ("подсчитывает", "рассчитывает"), ("вычисляет", "рассчитывает"), ("вычисляют", "рассчитывают"),
    ("вычислить", "рассчитать"), ("вычисление", "расчет"), ("подсчет", "расчет"),
    # the FAQ's Chinese says 讲习班 for a workshop, 其他 for "other" and 耕地 for cropland
    ("研讨会", "讲习班"), ("工作坊", "讲习班"), ("别的", "其他"), ("农田", "耕地"),
    ("один вне все вне", "one out all out"), ("один выбыл все выбыли", "one out all out"),
    ("un dehors tous dehors", "one out all out"), ("uno fuera todos fuera", "one out all out"),
    ("واحد خارج الكل خارج", "one out all out"), ("一出全出", "one out all out"),
]
"""Query word (folded) -> the FAQ's word for the same thing: synonyms and other names of the
programme's terms that the FAQ's preferred terms (knowledge/glossary.yaml) leave out."""

_LDN_IN = {"cyrillic": "нбдз", "arabic": "تحييد اثر تدهور الاراضي", "cjk": "土地退化零增长"}
"""The programme's name in the FAQ's words of a script: "LDN" typed inside a Russian, Arabic or
Chinese question (code-switching) counts as the term the entries of that language use."""


def _synonym_pattern(word: str) -> re.Pattern:
    escaped = re.escape(word)
    if any("a" <= ch <= "z" or "\u0400" <= ch <= "\u04ff" for ch in word):
        return re.compile(rf"(?<![^ ]){escaped}(?![^ ])")  # whole words
    if any("\u0600" <= ch <= "\u06ff" for ch in word):
        return re.compile(rf"{escaped}[^ ]*")  # Arabic: clitics glued on before, the word's ending after
    return re.compile(escaped)  # Chinese: anywhere


_SYNONYMS = [(word, _synonym_pattern(word), term) for word, term in _SYNONYM_LIST]
_STEM_SYNONYMS = [("показател", re.compile(r"(?<![^ ])(?:под|суб) ?показател(?:ь|и|я|ей|ям|ями|ях|ем)?(?![^ ])"),
                   "субиндикатор")]
"""Russian words of one stem, whatever the ending: подпоказатель and субпоказатель are the FAQ's субиндикатор."""
_LDN = re.compile(r"(?<![a-z])ldn(?![a-z])")


_LAND_CLASSES = {
    # language: (the FAQ's words for land types, {land cover class: words naming it, folded})
    "en": ("land types", {"forest": r"forests?|woodlands?|tree cover(?:ed)?", "grass": r"grasslands?|rangelands?|pastures?",
                          "crop": r"croplands?|farmlands?|crops?", "wet": r"wetlands?"}),
    "fr": ("types de terres", {"forest": r"forets?|zones? arborees?", "grass": r"prairies?|paturages?|parcours",
                               "crop": r"terres? cultivees?|cultures?|terres? agricoles?", "wet": r"zones? humides?"}),
    "es": ("tipos de tierra", {"forest": r"bosques?|zonas? arboladas?", "grass": r"pastizal(?:es)?|praderas?|pastos?",
                               "crop": r"tierras? de cultivo|cultivos?|tierras? agricolas?", "wet": r"humedal(?:es)?"}),
    "ru": ("типы земель", {"forest": r"лес\w*", "grass": r"луг\w*|пастбищ\w*", "crop": r"пахот\w*|пашн\w*|посев\w*",
                           "wet": r"водно болот\w*"}),
}
_LAND_CLASS_PATTERNS = [(term, [re.compile(rf"(?<![^ ])(?:{words})(?![^ ])") for words in classes.values()])
                        for term, classes in _LAND_CLASSES.values()]
_LAND_CLASS_ANYWHERE = [
    ("انواع الاراضي", [re.compile(p) for p in ("غاب", "مراع|رعوي", "زراعي|محاصيل", "رطب")]),
    ("土地类型", [re.compile(p) for p in ("森林|林地", "草地|草原|牧场", "耕地|农田", "湿地")]),
]
_TRADE = re.compile(r"(?<![^ ])(?:offset\w*|compensat\w*|counterbalanc\w*|gains?|compens\w*|ganancias?|компенс\w*"
                    r"|прирост\w*|выигрыш\w*)(?![^ ])|تعويض|يعوض|مكاسب|抵消|抵偿|补偿|收益")
"""Words of a trade of losses for gains: with two land cover classes, the question is like for like."""


def with_land_types(folded: str) -> str:
    """``folded`` with the FAQ's words for land types added when it names two land cover
    classes of one language and a trade ("offset forest loss with gains in grassland", "потери леса и
    прирост пашни"): trading one class for another is a question about land types (like for
    like), not only about losses and gains. Only with a word of the trade (:data:`_TRADE`):
    forest cleared for crops is a change of land cover, not a question of offsetting."""
    if not _TRADE.search(folded):
        return folded
    for term, patterns in _LAND_CLASS_PATTERNS + _LAND_CLASS_ANYWHERE:
        if sum(1 for pattern in patterns if pattern.search(folded)) >= 2:
            return f"{folded} {term}"
    return folded


def with_faq_terms(folded: str, script: str) -> str:
    """``folded`` query text with synonyms written as the FAQ writes them (:data:`_SYNONYM_LIST`),
    and "ldn" in a Cyrillic, Arabic or Chinese question (``script``: its dominant script) as
    that script's term."""
    for word, pattern, term in _SYNONYMS:
        if word in folded:
            folded = pattern.sub(term, folded)
    if script == "cyrillic":
        for _stem, pattern, term in _STEM_SYNONYMS:
            folded = pattern.sub(term, folded)
    if script in _LDN_IN and "ldn" in folded:
        folded = _LDN.sub(f" {_LDN_IN[script]} ", folded).strip()
    return with_land_types(folded)


_SKELETON = str.maketrans({"ص": "س", "ث": "س", "ط": "ت", "ض": "د", "ظ": "ز", "ذ": "ز", "ح": "ه",
                           "ا": None, "و": None, "ي": None, "ء": None, "ئ": None, "ؤ": None})
"""Arabic letters Latin spellings confuse (s for س, ص and ث; t for ت and ط; h for ه and ح...) made
one, and the long vowels and hamza carriers the spellings drop or add, dropped."""


def arabic_skeleton(word: str) -> str:
    """The consonants of a folded Arabic word as a Latin spelling may render them: a word typed
    in Latin letters and transliterated (``sunduq`` -> سندق) has the skeleton of the FAQ's word
    (صندوق). The ending ه (ta marbuta) and doubled letters do not count."""
    if word.endswith("ه") and len(word) > 2:
        word = word[:-1]
    return re.sub(r"(.)\1+", r"\1", word.translate(_SKELETON))
