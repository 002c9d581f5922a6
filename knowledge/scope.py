"""What the FAQ is *not* about: the words that tell a near-miss question from a real one.

Lexical matching answers "visa for COP 16 in Riyadh" with decision 16/COP.12 because
*COP* and *16* are both there. Three rules, applied by :class:`knowledge.search.Ranker`
to each candidate entry, keep such questions out (a leaf module: folded text in,
words out; the lists are in the six languages, folded as :func:`knowledge.text.fold`
folds the queries):

* **Outside topics** (:data:`OUTSIDE`): meetings' logistics (visas, hotels, taxis,
  registration as an observer), people ("executive secretary"), news, everyday text
  (recipes, football, phone plans). A query naming one is answered only by an entry
  that names it too.
* **Instruments of other conventions** (:data:`INSTRUMENTS`: NDCs) count as outside
  topics: the FAQ has entries on their links with LDN, which name them.
* **Other conventions** (:data:`OTHER_CONVENTIONS`): UNFCCC, CBD, Ramsar, the Paris
  Agreement... A query naming one is answered only if it also names the
  programme's own subject (:data:`HOME`: LDN, the UNCCD, land degradation), as in
  "include LDN in our NDC update", and by an entry naming that convention.
* **Codes** (:func:`codes`): a number after a symbol word ("COP 16", "SDG 4", "CRIC 21",
  "ЦУР 4", "目标4", "Tier 2") stands for that meeting, goal or IPCC tier: the entry must hold the same code.
  Other numbers are *plain* and weigh little (:data:`GENERIC_WEIGHT`), except the
  dotted ones ("15.3.1", see :func:`dotted_numbers`) and years, which are dates.
* **Generic words** (:data:`GENERIC`: "government", "year", "data", "country"...) weigh
  :data:`GENERIC_WEIGHT` and never decide a match alone: an entry must share at least
  one other word with the query. Words for a report (:data:`WEAK`) weigh in full but do
  not decide alone either: "government report" is no question about the national report.
"""
from __future__ import annotations

import functools
import re

from knowledge.text import fold, terms

GENERIC_WEIGHT = 0.3
"""Weight (share of its idf) of a generic word or a plain number in a query."""


def _fold_list(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(fold(line) for line in text.strip().splitlines() if line.strip()))


OUTSIDE = _fold_list("""
visa
visas
visado
visados
виза
визу
визы
تأشيرة
تاشيره
签证
passport
passeport
pasaporte
паспорт
загранпаспорт
جواز السفر
护照
embassy
ambassade
embajada
посольств
سفارة
大使馆
hotel
hotels
hôtel
hôtels
гостиниц
отел
فندق
酒店
宾馆
booking
réservation
reserva
бронирован
حجز
预订
taxi
такси
سيارة اجرة
出租车
shuttle
navette
traslado
трансфер
النقل من المطار
班车
airport
aéroport
aeropuerto
аэропорт
المطار
机场
flight
vol pour
vuelo
авиабилет
رحلة جوية
航班
reimburse
reimburses
reimbursed
reimbursement
rembourse
remboursement
rembourser
reembolsa
reembolso
reembolsar
возмест
возмещен
компенсир
يعوض
تعويض
استرداد
报销
plane ticket
air ticket
flight ticket
billet d avion
mon billet
pasaje
boleto de avion
билет
تذكرة السفر
تذكرة طيران
机票
per diem
daily subsistence
subsistence allowance
indemnité journalière
indemnités journalières
viático
viáticos
суточн
بدل الاقامة
بدل السفر
津贴
补贴
wifi
wi fi
вайфай
вай фай
واي فاي
无线网络
lunch
déjeuner
almuerzo
обед
غداء
午餐
dress code
code vestimentaire
código de vestimenta
дресс код
اللباس الرسمي
着装
job vacancy
job vacancies
vacancies
vacancy
offres d emploi
offre d emploi
vacantes
vacante
вакансии
вакансия
وظائف شاغرة
وظيفة شاغرة
职位空缺
招聘
assessment report
rapport du giec
rapport d évaluation du giec
informe del ipcc
informe de evaluación
доклад мгэик
оценочный доклад
تقرير التقييم
评估报告
restaurant
restaurante
ресторан
مطعم
餐厅
accommodation
lodging
hébergement
logement
alojamiento
hospedaje
проживани
жиль
السكن
住宿
parking
stationnement
estacionamiento
парковк
موقف السيارات
停车
sim card
carte sim
tarjeta sim
сим карт
电话卡
travel insurance
assurance voyage
seguro de viaje
страховк
تأمين السفر
旅行保险
vaccine
vaccination
vaccin
vacuna
vacunación
вакцин
تطعيم
اللقاح
疫苗
covid
internship
pasantía
стажировк
实习
salary
salaire
salario
зарплат
راتب
工资
who is the director
who is the head of
who chairs
qui est le directeur
qui est la directrice
qui préside
quién es el director
quién es la directora
quién preside
кто директор
кто председатель
кто глава
من هو مدير
من هي مديرة
من يرأس
主任是谁
谁是主任
主席是谁
谁是主席
letter of invitation
invitation letter
lettre d invitation
carta de invitación
пригласительн
письмо приглашение
دعوة لحضور
رسالة دعوة
خطاب دعوة
邀请函
邀请信
capital city
capitale de
capitale du
la capital de
столиц
عاصمة
首都
headquarters
office address
where is the office
où se trouve le bureau
adresse du bureau
dónde está la oficina
dirección de la oficina
где находится офис
адрес офиса
اين يقع مكتب
عنوان المكتب
办公室在哪
办公室地址
总部
secretary general
secrétaire général
secretario general
генеральный секретарь
الامين العام
秘书长
museum
musée
museo
музе
متحف
博物馆
observer
observateur
observador
наблюдател
كمراقب
مراقب
观察员
accreditation
accréditation
acreditación
аккредитац
اعتماد الصحفيين
注册为
register for the cop
register for cop
registration for the cop
registration for cop
s'inscrire à la cop
inscription à la cop
inscribirse en la cop
inscribirme en la cop
inscripción a la cop
регистрация на кс
зарегистрироваться на кс
أسجل في مؤتمر
التسجيل في مؤتمر
التسجيل لحضور
报名参加
minister of
environment minister
who is the minister
ministre de
qui est le ministre
ministra de
ministro de
quién es el ministro
кто министр
министр природ
министр эколог
министр окружающ
министр сельск
министр иностран
من هو وزير
من هي وزيرة
وزير البيئة
وزيرة البيئة
وزير الزراعة
وزير الخارجية
环境部长
农业部长
外交部长
部长是谁
executive secretary
secrétaire exécutif
secretario ejecutivo
исполнительный секретарь
الامين التنفيذي
执行秘书
news
nouvelles
actualités
noticias
новост
اخبار
新闻
buy
buying
purchase
acheter
achat
comprar
купить
покупк
شراء
购买
买地
sell
selling
vendre
vender
продать
出售
price
prices
prix
precio
precios
цена
цены
سعر
اسعار
价格
staff member
career
carrière
трудоустройств
توظيف
求职
garden
jardin
jardín
огород
حديقة
花园
movie
film
película
фильм
فيلم
电影
song
chanson
canción
песн
أغنية
歌曲
joke
blague
chiste
анекдот
نكتة
笑话
horoscope
horóscopo
гороскоп
星座
lottery
lotería
лотере
يانصيب
彩票
stock market
bourse
bolsa de valores
биржа
البورصة
股市
how to cook
cooking
cuisiner
cocinar
приготовить
طبخ
做菜
烹饪
recipe
recette
receta
рецепт
وصفة
菜谱
怎么包
paella
couscous
кускус
الكسكس
饺子
football
soccer
fútbol
futbol
футбол
كرة القدم
足球
du match
le match
partido
who won
qui a gagné
quién ganó
кто выиграл
من فاز
谁赢
coupe d
copa américa
copa del mundo
champions league
championship
чемпионат
بطولة
冠军
election
elections
élection
élections
elección
elecciones
выборы
выборов
الانتخابات
选举
exchange rate
taux de change
tipo de cambio
курс доллара
سعر الصرف
汇率
dollar
dólar
доллар
الدولار
美元
what time is it
quelle heure
qué hora
который час
كم الساعة
几点
كلمة السر
president
président
presidente
президент
رئيس الجمهوريه
رئيس الدوله
总统
world cup
coupe du monde
mundial de fútbol
чемпионат мира
كاس العالم
世界杯
weather
météo
clima de hoy
pronostico del tiempo
pronóstico del tiempo
погод
الطقس
天气
bitcoin
биткоин
بيتكوين
比特币
password
mot de passe
contraseña
парол
كلمة المرور
密码
phone
téléphone
celular
teléfono
телефон
мобильного интернета
الهاتف
手机
""")
"""Markers of topics outside the programme (folded; a Latin marker matches whole words,
a Cyrillic one a word's beginning, an Arabic or Chinese one anywhere)."""

OTHER_CONVENTIONS_TEXT = """
unfccc
ccnucc
cmnucc
ркик
اتفاقية تغير المناخ
اتفاقيه تغير المناخ
الإطارية بشأن تغير المناخ
الاطارية بشان تغير المناخ
气候公约
气候变化框架公约

cbd
cdb
кбр
biodiversity
biological diversity
biodiversité
diversité biologique
biodiversidad
diversidad biológica
биоразнообраз
биологическом разнообразии
التنوع البيولوجي
生物多样性

ramsar
рамсар
رامسار
拉姆萨尔

paris agreement
accord de paris
acuerdo de parís
парижское соглашение
парижского соглашения
اتفاق باريس
巴黎协定

kyoto
киот
كيوتو
京都议定书

cites
ситес
سايتس
濒危物种
濒危野生动植物

migratory species
espèces migratrices
especies migratorias
мигрирующих видов
الانواع المهاجرة
迁徙物种

world heritage
patrimoine mondial
patrimonio mundial
всемирного наследия
التراث العالمي
世界遗产

basel convention
convention de bâle
convenio de basilea
базельской конвенции
اتفاقية بازل
巴塞尔公约

stockholm convention
convention de stockholm
convenio de estocolmo
стокгольмской конвенции
اتفاقية استكهولم
斯德哥尔摩公约

minamata
минамат
ميناماتا
水俣

montreal protocol
protocole de montréal
protocolo de montreal
монреальский протокол
монреальского протокола
بروتوكول مونتريال
蒙特利尔议定书

bonn challenge
défi de bonn
desafío de bonn
боннский вызов
تحدي بون
波恩挑战

decade on ecosystem restoration
décennie des nations unies
decenio de las naciones unidas
десятилетие оон
عقد الامم المتحدة
生态系统恢复十年

ipbes
мпбэу
"""
OTHER_CONVENTIONS = _fold_list(OTHER_CONVENTIONS_TEXT)
"""Markers of other conventions (one convention's names and forms a block of ``OTHER_CONVENTIONS_TEXT``)."""

INSTRUMENTS = _fold_list("""
ndc
ndcs
cdn
онув
المساهمة المحددة وطنيا
المساهمات المحددة وطنيا
国家自主贡献
""")
"""Other conventions' instruments (NDCs): a query naming one is answered only by an
entry naming it too, but needs no mention of LDN (the FAQ covers their links to LDN)."""

_FORMS: dict[str, tuple[str, ...]] = {}
for _group in [_fold_list(block) for block in OTHER_CONVENTIONS_TEXT.split("\n\n")] + [INSTRUMENTS]:
    for _marker in _group:
        _FORMS[_marker] = _group


def forms(marker: str) -> tuple[str, ...]:
    """The markers naming the same thing as ``marker`` (a convention's names in six languages, an
    NDC singular or plural): an entry naming any of them names it (``(marker,)`` for others)."""
    return _FORMS.get(marker, (marker,))


HOME = _fold_list("""
ldn
ndt
нбдз
تحييد
零增长
土地退化
unccd
cnulcd
cnuld
cld
кбооон
مكافحة التصحر
荒漠化公约
desertification
désertification
desertificación
опустынивани
التصحر
荒漠化
land degradation
dégradation des terres
degradación de las tierras
деградаци
تدهور الاراضي
土地退化
degradation
dégradation
degradación
التدهور
退化
""")
"""The programme's own subject: with one of these a question about another convention's
links to LDN is in scope."""

_GENERIC_WORDS = _fold_list("""
government
governments
gouvernement
gouvernements
gobierno
gobiernos
правительств
правительства
правительство
حكومة
الحكومات
حكومات
政府
year
years
année
années
ans
año
años
год
года
году
سنة
عام
data
donnée
données
dato
datos
данные
данных
بيانات
البيانات
数据
country
countries
pays
país
países
страна
страны
стран
стране
странах
странам
страной
население
населения
population
habitants
población
habitantes
سكان
人口
بلد
دول
国家
text
texte
texto
текст
نص
number
numbers
numéro
chiffres
números
цифры
أرقام
chiffre
número
число
номер
رقم
عدد
数字
plan
plans
last
dernier
dernière
pasado
pasada
прошлый
прошлого
прошлом
الماضي
الماضية
去年
今年
当年
本年
年度
年份
一年
哪一
sommes
estamos
todos
todo
tout
tous
everyone
everybody
hablan
ministry
ministries
ministère
ministères
ministerio
ministerios
министерство
министерства
министерству
министерстве
министерством
министерств
وزارة
الوزارة
وزارات
部委
部门
annual
annuel
annuelle
anual
годовой
годового
سنوي
parlent
talk
talking
говорят
يتحدث
""")
GENERIC = frozenset(_GENERIC_WORDS) | frozenset(unit for word in _GENERIC_WORDS for unit, _script in terms(word))
"""Words too general to decide a match alone: folded, and as the query's words are cut
(Arabic light-stemmed: بيانات is matched as يان; Chinese as bigrams)."""

_WEAK_WORDS = _fold_list("""
report
reports
rapport
rapports
informe
informes
доклад
доклада
докладе
докладу
докладом
доклады
докладов
отчет
отчета
отчете
отчету
отчетом
отчеты
отчетов
تقرير
التقرير
تقارير
التقارير
报告
budget
budgets
presupuesto
presupuestos
бюджет
бюджета
бюджете
ميزانية
الميزانية
预算
""")
_MONTH_WORDS = _fold_list("""
january
february
march
april
may
june
july
august
september
october
november
december
janvier
février
mars
avril
mai
juin
juillet
août
septembre
octobre
novembre
décembre
enero
febrero
marzo
abril
mayo
junio
julio
agosto
septiembre
octubre
noviembre
diciembre
январь
января
февраль
февраля
март
марта
апрель
апреля
май
мая
июнь
июня
июль
июля
август
августа
сентябрь
сентября
октябрь
октября
ноябрь
ноября
декабрь
декабря
يناير
فبراير
مارس
ابريل
مايو
يونيو
يوليو
اغسطس
سبتمبر
اكتوبر
نوفمبر
ديسمبر
""")
MONTHS = frozenset(_MONTH_WORDS) | frozenset(unit for word in _MONTH_WORDS for unit, _script in terms(word))
"""The months: a bare date ("el 5 de mayo", "le 12 juillet") asks nothing, so they are :data:`WEAK`
words, unless the query also names a year ("signed up by July 2016")."""
WEAK = (frozenset(_WEAK_WORDS) | frozenset(unit for word in _WEAK_WORDS for unit, _script in terms(word))
        | MONTHS)
"""Words that name a kind of document, any body's ("the government's report", "informe del
gobierno"), and the :data:`MONTHS`: they weigh as usual but, like :data:`GENERIC` words, never
decide a match alone."""

_CODE_KEYS = {
    "cop": "cop", "cdp": "cop", "кс": "cop", "الاطراف": "cop", "缔约方会议": "cop",
    "cric": "cric", "crie": "cric", "крок": "cric",
    "sdg": "sdg", "sdgs": "sdg", "odd": "sdg", "ods": "sdg", "цур": "sdg", "الهدف": "sdg",
    "目标": "sdg",
    "decision": "decision", "decisions": "decision", "decisiones": "decision", "решение": "decision",
    "решения": "decision", "المقرر": "decision", "决定": "decision",
    # IPCC tiers of methods and factors ("Tier 2 factors", "nivel 2", "уровня 2", "المستوى 2")
    "tier": "tier", "tiers": "tier", "niveau": "tier", "nivel": "tier", "уровень": "tier", "уровня": "tier",
    "уровне": "tier", "المستوي": "tier", "层级": "tier",
}
"""Symbol words (folded) whose following number names a meeting or goal, by code kind."""
_CJK_CODE_KEYS = tuple((word, kind) for word, kind in _CODE_KEYS.items() if "\u4e00" <= word[-1] <= "\u9fff")


def _trie(words: list[str]) -> str:
    """A regex matching exactly ``words``, as a trie of their letters (``visa|visas|visado`` ->
    ``visa(?:do|s)?``): the regex engine walks each position once instead of trying every
    word, and a longer word is preferred where both match, as sorting by length did."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        children = sorted(ch for ch in node if ch)
        if not children:
            return ""
        alts = [re.escape(ch) + build(node[ch]) for ch in children]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def _pattern(markers: tuple[str, ...]) -> re.Pattern:
    """One regex for ``markers``: a Latin marker matches whole words, a Cyrillic one a word's
    beginning, an Arabic or Chinese one anywhere (clitics glued on, no spaces)."""
    latin = [m for m in markers if m.isascii() or any("a" <= ch <= "z" for ch in m)]
    cyrillic = [m for m in markers if m not in latin and any("\u0400" <= ch <= "\u04ff" for ch in m)]
    other = [m for m in markers if m not in latin and m not in cyrillic]
    parts = []
    if latin:
        parts.append(rf"(?<![^ ])(?:{_trie(latin)})(?![^ ])")
    if cyrillic:
        parts.append(rf"(?<![^ ])(?:{_trie(cyrillic)})")
    if other:
        parts.append(f"(?:{_trie(other)})")
    return re.compile("|".join(parts) or "(?!)")


_OUTSIDE = _pattern(OUTSIDE + INSTRUMENTS)
_CONVENTIONS = _pattern(OTHER_CONVENTIONS)
_HOME = _pattern(HOME)
_NUMBER = re.compile(r"\d+")
_DOTTED = re.compile(r"\d+(?:[.,]\d+)+")
_YEAR = re.compile(r"(19|20)\d\d")
_YEARS = re.compile(r"199\d|20[0-3]\d")


@functools.lru_cache(maxsize=1024)
def _one(marker: str) -> re.Pattern:
    return _pattern((marker,))


def names(marker: str, folded: str) -> bool:
    """Does ``folded`` text name ``marker`` (with the boundaries of :func:`_pattern`)?"""
    return marker in folded and _one(marker).search(folded) is not None


WEATHER = _fold_list("""
weather
forecast
temperature
rain
raining
snow
sunny
météo
temps
température
pluie
pleut
neige
clima
tiempo
temperatura
lluvia
llueve
nieve
погод
температур
дожд
снег
طقس
درجة الحرارة
درجات الحرارة
مطر
امطار
天气
气温
温度
下雨
下雪
""")
"""Words of the weather; with a day (:data:`DAYS`) they ask for a forecast ("clima en Nairobi
mañana"), though alone some of them are the FAQ's ("clima" is also the climate)."""
DAYS = _fold_list("""
today
tomorrow
tonight
weekend
aujourd hui
demain
ce soir
week end
hoy
mañana
esta noche
fin de semana
сегодня
завтра
выходные
اليوم
غدا
الليلة
今天
明天
后天
今晚
周末
""")
"""Days near at hand, as a forecast is asked for."""
FORECAST = "weather forecast"
"""The outside topic a weather word with a day stands for (no entry names it)."""
MEETINGS = _fold_list("""
meeting
session
réunion
séance
reunión
sesión
встреча
встречи
совещание
заседание
اجتماع
جلسة
会议
会
""")
"""A meeting: with a day (:data:`DAYS`) it is a question on today's or tomorrow's programme
("horario de la reunión de mañana"), which no entry answers."""
AGENDA = "meeting of the day"
"""The outside topic a meeting with a day stands for (no entry names it)."""
_WEATHER = _pattern(WEATHER)
_DAYS = _pattern(DAYS)
_MEETINGS = _pattern(MEETINGS)


def outside_markers(folded: str) -> list[str]:
    """The outside-topic and instrument markers in ``folded`` text (a weather word and a day
    of :data:`WEATHER` and :data:`DAYS` count as :data:`FORECAST`, a meeting and a day as
    :data:`AGENDA`)."""
    found = _OUTSIDE.findall(folded)
    if _DAYS.search(folded):
        if _WEATHER.search(folded):
            found.append(FORECAST)
        if _MEETINGS.search(folded):
            found.append(AGENDA)
    return found


def convention_markers(folded: str) -> list[str]:
    """The other-convention markers in ``folded`` text."""
    return _CONVENTIONS.findall(folded)


def names_home(folded: str) -> bool:
    """Does ``folded`` name the programme's own subject (:data:`HOME`)?"""
    return _HOME.search(folded) is not None


DEADLINES = _fold_list("""
deadline
deadlines
due date
date limite
échéance
fecha límite
plazo
срок
сроки
крайний срок
الموعد النهائي
موعد تقديم
截止
""")
"""Words of a deadline: another convention's instrument's deadline ("NDC 3.0 deadline") is that
convention's business unless the question names LDN (see :func:`other_deadline`)."""
_DEADLINES = _pattern(DEADLINES)
_INSTRUMENTS = _pattern(INSTRUMENTS)


def other_deadline(folded: str) -> bool:
    """Does ``folded`` ask for the deadline of another convention's instrument (an NDC) without
    naming the programme's subject? (The FAQ covers the links of NDCs to LDN, not their calendar.)"""
    return bool(_INSTRUMENTS.search(folded) and _DEADLINES.search(folded)) and not names_home(folded)


def codes(folded: str) -> set[tuple[str, str]]:
    """``(kind, number)`` of each number right after a symbol word: ``"visa for cop 16"`` ->
    ``{("cop", "16")}``, ``"16 cop 12"`` (decision 16/COP.12) -> ``{("decision", "16"), ("cop", "12")}``; a
    Chinese symbol counts at the end of the preceding run (``可持续发展目标 4``)."""
    words = folded.split()
    found: set[tuple[str, str]] = set()
    for i in range(len(words)):
        if not words[i].isdigit():
            continue
        before = words[i - 1] if i else ""
        kind = _CODE_KEYS.get(before)
        if kind is None and before and "\u4e00" <= before[-1] <= "\u9fff":
            kind = next((k for word, k in _CJK_CODE_KEYS if before.endswith(word)), None)
        if len(words[i]) > 2:
            continue  # meetings and goals have one- or two-digit numbers; "cric 2018" is a date
        if kind is not None:
            found.add((kind, words[i]))
        if i + 1 < len(words) and _CODE_KEYS.get(words[i + 1]) in ("cop", "cric"):
            found.add(("decision", words[i]))  # 16/COP.12: decision 16 of COP 12
    return found


def dotted_numbers(raw: str) -> set[str]:
    """Numbers written with dots or commas in the raw query (``"15.3.1"`` -> ``"1531"``, as
    :func:`knowledge.text.fold` writes them): target and indicator numbers, not stray."""
    return {re.sub(r"[.,]", "", m) for m in _DOTTED.findall(raw)}


def years(folded: str) -> frozenset[str]:
    """The years (1990-2039) of ``folded`` text: dates, never plain numbers."""
    return frozenset(n for n in _NUMBER.findall(folded) if _YEARS.fullmatch(n))


def plain_numbers(folded: str, raw: str) -> set[str]:
    """Numbers of ``folded`` that stand for nothing: neither a code (:func:`codes`), nor
    dotted in ``raw``, nor a year."""
    special = {number for _kind, number in codes(folded)} | dotted_numbers(raw)
    return {n for n in _NUMBER.findall(folded) if n not in special and not _YEAR.fullmatch(n)}


_LEVEL_PATTERNS = {
    "national": re.compile(r"(?<![^ ])(?:national|nationale|nationales|nationaux|nacional|nacionales|национальн\w*)(?![^ ])"
                           r"|وطني|الوطنيه|الوطني|国家一级|全国"),
    "global": re.compile(r"(?<![^ ])(?:global|globale|globales|globaux|mondial|mondiale|mondiaux|mundial|mundiales"
                         r"|глобальн\w*|мирово\w*)(?![^ ])|عالمي|العالميه|العالمي|全球"),
    "regional": re.compile(r"(?<![^ ])(?:regional|regionale|regionales|regionaux|региональн\w*)(?![^ ])"
                           r"|اقليمي|الاقليميه|الاقليمي|区域"),
}
"""The levels a question may be about: national, global, regional (folded, in the six languages)."""


def levels(folded: str) -> frozenset[str]:
    """The levels (:data:`_LEVEL_PATTERNS`) ``folded`` text names: "the support at the global level"
    is not the support at the national one."""
    return frozenset(level for level, pattern in _LEVEL_PATTERNS.items() if pattern.search(folded))
