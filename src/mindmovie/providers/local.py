"""Offline providers: the free animatic, and the classic mind movie from a person's photos.

Nothing here touches the network or costs money, so a fresh install renders a whole movie
offline. These are a product in their own right, not stubs:

- `LocalPlanner` turns goals into scenes with first-person, present-tense affirmations,
  deterministically (the same goals always give the same plan, so re-runs redo nothing).
- `LocalKeyframes` (in `local_media`, with the motion: numpy and Pillow are imported only
  by commands that draw) fits the person's own photo to the frame, or paints a calm
  landscape seeded by the prompt, with a palette per goal category.
- `LocalMotion` animates a keyframe with a smooth, sub-pixel Ken Burns move (eased zoom or
  pan), encoded as H.264 by the ffmpeg that imageio-ffmpeg ships.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mindmovie.fsutil import slugify
from mindmovie.goals import Goal, Goals
from mindmovie.plan import DEFAULT_CLOSING, Plan, Scene
from mindmovie.providers.base import (
    DEFAULT_STYLE,
    PlanOptions,
)
from mindmovie.yamlsrc import given_text

#: the offline models' names (in every input key): here, so estimates and status name
#: them without importing the painter (numpy and Pillow: ~0.2 s of a command's start)
KEYFRAMES_MODEL = "local-painter-1"
MOTION_MODEL = "local-kenburns-1"

#: affirmations longer than this do not fit comfortably on screen at a readable size
MAX_AFFIRMATION = 90


def stable_int(*parts: object) -> int:
    """A process-independent hash (Python's hash() is salted per process)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big")


# ====================================================================== planner: language
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs that commonly open an imperative goal ("Run a marathon" -> "I run a marathon").
_VERBS = _words(
    """
    achieve attend bake bike breathe build buy call celebrate cherish climb coach code
    cook complete connect create cycle dance design donate drink earn eat embrace enjoy
    explore feel finish find garden get give go grow have help hike hire host invest
    join keep launch laugh lead learn lift listen live love make marry master meditate
    mentor move nurture open own paint pay plant play practice practise prepare publish
    raise reach read renovate rest restore retire ride run sail save see sell share ship
    show sing sleep speak spend stay start stretch study support surf swim take teach
    train travel visit volunteer wake walk welcome work write put set try choose quit stop
    say pick drive book cut clear bring fly accept adopt afford allow apply believe care
    change commit declutter do exercise express focus forgive gain heal honor honour hug
    improve jog lose manage nourish organise organize pass pray prioritise prioritize
    protect pursue rebuild reconnect reduce relax release relocate remember replace respect
    schedule sit smile stand succeed thank thrive treat trust upgrade value watch wear win
    worry meet
    """
)
# Adjectives that do not look like adjectives by their suffix.
_ADJECTIVES = _words(
    """
    alive brave calm clear confident debt-free fit free fresh full glad happy healthy
    kind lean light open proud ready rich safe secure slim strong well whole wise young
    """
)
_ADJ_SUFFIXES = ("ful", "ous", "ive", "ent", "ant", "able", "ible", "al", "ic", "less", "ed", "y")
_NOT_ADVERBS = frozenset({"daily", "weekly", "monthly", "yearly", "early", "family", "only"})
# Words after an adjective that show the phrase is "I am <adjective> ..." not "<adj> <noun>".
_LINKERS = _words(
    """
    and or but every each in at by with for to from as all on of than
    """
)
# Nouns for a role a person *is* ("A published author" -> "I am a published author").
_ROLE_NOUNS = _words(
    """
    author artist athlete champion coach dad expert father founder friend host husband
    leader mentor mom mother parent partner person runner speaker teacher wife writer
    self version
    """
)
_NOT_ROLES = _words(
    """
    after better center corner dinner ever fewer never number other over paper silver
    summer together under water winter
    """
)
_DEADLINE = re.compile(
    r",?\s+(?:by|before|within|in)\s+(?:the\s+end\s+of\s+)?(?:the\s+age\s+of\s+|age\s+)?"
    r"(?:\d{2,4}|next\s+(?:year|summer|spring|autumn|fall|winter)|this\s+year|"
    r"\d+\s+(?:years?|months?|weeks?))\b"
    r"|,?\s+(?:next|this)\s+(?:year|summer|spring|autumn|fall|winter)$"
    r"|,?\s+(?:by|before)\s+(?:the\s+)?(?:summer|spring|autumn|fall|winter)$",
    re.I,
)
_TRAILING_STOPWORDS = _words(
    """
    a an and at but by for from in into of on or so the to with while my our your
    """
)
# "I <wish> <verb>" -> "I <verb>": future, wishes, plans and duties all read as done.
_WISH = (
    r"will|shall|am\s+going\s+to|going\s+to|want\s+to|would\s+(?:really\s+)?(?:like|love)\s+to|"
    r"hope\s+to|plan\s+to|aim\s+to|intend\s+to|wish\s+to|need\s+to|am\s+planning\s+to|"
    r"am\s+about\s+to|am\s+trying\s+to|am\s+hoping\s+to|am\s+aiming\s+to|try\s+to|have\s+to|"
    r"can['’]?t\s+wait\s+to|cannot\s+wait\s+to|would\s+rather|would\s+prefer\s+to|"
    r"would|should|could|might|may|must"
)
_WISH_PREFIX = re.compile(
    rf"^(?:(?:really|just|truly|so|also|still|definitely|actually)\s+)*(?:{_WISH})(?:\s+|$)", re.I
)
# the same phrasing without the "I" ("Want to run a marathon"), minus the ambiguous modals
_WISH_START = re.compile(
    r"^(?:will|shall|going\s+to|want\s+to|would\s+(?:like|love)\s+to|hope\s+to|plan\s+to|"
    r"aim\s+to|intend\s+to|wish\s+to|need\s+to)\s+",
    re.I,
)
# "I want a dog", "I'd love a garden": a thing wished for -> "I have a dog"
_WANT_THING = re.compile(
    r"^(?:(?:really|just|truly|so)\s+)?(?:want|would\s+(?:really\s+)?(?:like|love)|wish\s+for|"
    r"hope\s+for|long\s+for|need)\s+"
    r"(?!(?:to|will|shall|would|won['’]t|not|never|is|are|am|be|was|were|I)\b)(?=\w)",
    re.I,
)
# "going to the gym" is a place, "going to write" is the future
_GOING_TO_PLACE = re.compile(
    r"^(?i:(?:am\s+)?going\s+to)\s+(?=(?i:the|a|an|my|our|his|her|their|bed|school|work|"
    r"church|college|university|class|classes|therapy|places)\b|[A-Z])"
)
_ADVERBS = _words(
    """
    always never also still really truly finally just now often regularly consistently
    easily naturally gladly happily joyfully fully deeply gently calmly confidently proudly
    soon actually definitely ever
    """
)
_NOT_GERUNDS = _words(
    """
    morning mornings evening evenings nothing something everything anything wedding
    ceiling clothing darling sibling pudding earring offspring lightning
    """
)
_DETERMINERS = _words("a an the my our his her their this that these those")
# a phrase opening with these is a quantity of something had ("More time with family")
_QUANTITY = _words("no more less fewer plenty lots enough extra all everything")
# words that open a time or place before the "I" ("Every morning I meditate")
_TIME_LEADS = _words(
    """
    every each in on at this next someday today tomorrow now soon one by after before
    within during most
    """
)
# finite verb forms that show a phrase is a whole clause ("My business is thriving")
_AUX = _words(
    """
    is are was were will would shall should can could may might must has have had does
    do did am isn't aren't wasn't weren't doesn't don't didn't can't cannot won't
    """
)
_CLAUSE_VERBS = _VERBS | _words(
    "thrive flourish prosper shine bloom blossom glow flow expand sparkle laugh come happen"
)
# verb forms that are rarely nouns, so they mark a clause even right after its first word
# ("Money flows to me"; unlike "Daily walks by the sea", where "walks" is a noun)
_CLEAR_S_FORMS = _words(
    """
    thrives flourishes prospers grows shines blooms blossoms glows flows expands sparkles
    comes happens goes
    """
)
_FUNCTION_WORDS = _words(
    """
    a an the and or but so if of to in on at by for with from as than that this these
    those it its is are was were no not nor every each some any all more less just only
    also very too me myself never always don't don’t
    """
)
# what a verb right after "I" becomes ("I does" -> "I do", "I was" -> "I am")
_I_AGREEMENT = {
    "does": "do",
    "doesn't": "don't",
    "did": "do",
    "didn't": "don't",
    "has": "have",
    "hasn't": "haven't",
    "had": "have",
    "is": "am",
    "isn't": "am not",
    "are": "am",
    "aren't": "am not",
    "was": "am",
    "wasn't": "am not",
    "were": "am",
    "weren't": "am not",
    "be": "am",
    "being": "am",
    "became": "am",
    "goes": "go",
}


#: past forms people write goals in ("Ran a marathon", "Paid off my debt") -> the past
#: participle: an affirmation says it as done, "I have run a marathon"
_PAST_PARTICIPLES = {
    "ran": "run", "bought": "bought", "paid": "paid", "won": "won", "wrote": "written",
    "built": "built", "made": "made", "found": "found", "began": "begun", "grew": "grown",
    "met": "met", "sold": "sold", "took": "taken", "gave": "given", "lost": "lost",
    "spent": "spent", "kept": "kept", "taught": "taught", "brought": "brought",
    "drove": "driven", "swam": "swum", "flew": "flown", "saw": "seen", "learnt": "learnt",
    "climbed": "climbed", "reached": "reached", "saved": "saved", "earned": "earned",
}  # fmt: skip
#: past forms whose affirmation is a present state, not a deed
_PAST_STATES = {"felt": "feel", "went": "have been", "knew": "know"}


def _past_form(word: str) -> str | None:
    """The participle of a past-tense verb ("paid" -> "paid", "finished" -> "finished"),
    None for anything else (an adjective like "tired", "used to")."""
    w = word.lower()
    if w in _PAST_PARTICIPLES:
        return _PAST_PARTICIPLES[w]
    if not w.endswith("ed") or w in ("used", "need", "feed", "seed", "speed", "bleed"):
        return None
    stems = (w[:-2], w[:-1], w[:-3], w[:-3] + "y")  # worked, loved, stopped, married
    return w if any(st in _VERBS for st in stems if st) else None


def _from_past(text: str) -> str:
    """ "I ran a marathon" -> "I have run a marathon", "I got promoted" -> "I am
    promoted", "I got a dog" -> "I have a dog", "I felt free" -> "I feel free"."""
    text = re.sub(r"\bI got to\b", "I get to", text)
    text = re.sub(r"\bI got(?=\s+(?:a|an|the|my|our|some|more|\d))\b", "I have", text)
    text = re.sub(r"\bI got\b", "I am", text)

    def fix(m: re.Match[str]) -> str:
        word, nxt = m.group(1), (m.group(2) or "").lower()
        low = word.lower()
        if low in _PAST_STATES:
            return m.group(0).replace(word, _PAST_STATES[low], 1)
        part = _past_form(low)
        # a regular -ed word before a preposition reads as a state ("I married to ...")
        if part is None or (low not in _PAST_PARTICIPLES and nxt in _PREPOSITIONS):
            return m.group(0)
        return m.group(0).replace(word, f"have {part}", 1)

    return re.sub(r"\bI\s+([A-Za-z]+)\b(?=\s+(\w+)|)", fix, text)


_PREPOSITIONS = _words("to by with in of for at on from about")


#: capitalised words English writes so in a sentence too: not lower-cased at its start
_PROPER = _words(
    "January February March April June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Christmas Easter "
    "Thanksgiving Halloween Hanukkah Diwali Ramadan Eid Passover "
    "English Spanish French German Italian Portuguese Japanese Chinese Mandarin Cantonese "
    "Korean Arabic Hindi Russian Dutch Greek Swedish Norwegian Danish Finnish Polish "
    "Turkish Hebrew Latin Irish Welsh Scottish Thai Vietnamese Swahili Icelandic "
    "American British European African Asian Canadian Australian Mexican Indian "
    "Brazilian Argentinian Peruvian Moroccan Egyptian"
)


def _lower_first(text: str, *, names: bool = True) -> str:
    """Lower-case the first word unless it is "I" or looks like a name/acronym, or (with
    `names`) starts a name: a particle before a capitalised word ("Las Vegas wedding" was
    "I enjoy las Vegas wedding"). The prompts pass names=False: their words are what
    they were, so the paid keyframes and clips are reused."""
    if not text:
        return text
    word, *rest = text.split(maxsplit=2)
    if word == "I" or word.startswith(("I'", "I’")) or any(c.isupper() for c in word[1:]):
        return text
    if word.strip(_WORD_EDGES) in _PROPER or any(c.isdigit() for c in word):
        return text  # "Christmas with family", "English fluency", "Q3 targets met"
    if names and rest and word.lower() in _NAME_STARTS and _capitalised(rest[0]):
        return text
    return text[0].lower() + text[1:]


#: the marks that end a sentence with no space after them: Chinese and Japanese (。！？),
#: the Devanagari danda (।), the Urdu full stop (۔)
_CLOSED_SENTENCE = "。！？।۔"


#: words a "." follows inside a sentence, as written (a title, a place's prefix): "Fly
#: to St. Petersburg" was the affirmation "I fly to St", "Marry Mr. Right" "I marry Mr"
_ABBREVIATIONS = _words(
    "St Ste Mt Mr Mrs Ms Mx Dr Jr Sr Prof Rev Fr Capt Lt Col Sgt Gen Gov Pres Sen Rep "
    "vs approx ca bzw ggf evtl inkl vgl bspw sog Hr Fr Hrn Sra Sr Sto"
)
#: abbreviations of "number", one only before a digit ("Be No. 1 in sales"; "say no. Then")
_NUMBER_WORDS = _words("No no Nr nr Nº")
#: a word of letters with a "." inside: "a.m", "Ph.D", "e.g", "Y.M.C.A", "U.S"
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")
_MARK_THEN_SPACE = re.compile(r"[.!?]+(?=\s)|[" + _CLOSED_SENTENCE + r"]")


def _sentence_ends(text: str) -> list[tuple[int, int]]:
    """Where `text`'s sentences end: (the end mark's start, its end), in order. A "."
    after an abbreviation ("St.", "Dr.", "e.g.", "5 a.m.", "Ph.D."), an initial ("J. K.
    Rowling", "z. B."), "No." before a number, or, in a line of another language, an
    ordinal ("zum 100. Geburtstag") ends none: each was taken as a sentence's end, and
    the affirmation cut there ("I fly to St"), the rest made a scene of its own ("I enjoy
    pool" of "Swim at the Y.M.C.A. pool")."""
    ends: list[tuple[int, int]] = []
    foreign: bool | None = None
    for m in _MARK_THEN_SPACE.finditer(text):
        if m.group(0) != ".":
            ends.append((m.start(), m.end()))
            continue
        before = text[: m.start()].rsplit(maxsplit=1)
        word = before[-1].lstrip(_QUOTES_AND_STOPS + "([") if before else ""
        after = text[m.end() :].lstrip()
        if (
            word in _ABBREVIATIONS
            or (len(word) == 1 and word.isalpha())
            or _DOTTED.fullmatch(word)
            or (word in _NUMBER_WORDS and after[:1].isdigit())
        ):
            continue
        if word.isdigit() and len(word) <= 3 and after[:1].isalpha():
            if foreign is None:
                english, other = _language_signs(text)
                foreign = other > english
            if foreign:
                continue
        ends.append((m.start(), m.end()))
    return ends


def _sentences(text: str) -> list[str]:
    """`text` cut at its sentences' ends (`_sentence_ends`), each with its end mark."""
    pieces: list[str] = []
    start = 0
    for _, end in _sentence_ends(text):
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _first_sentence(text: str) -> str:
    """`text`'s first sentence, without its closing mark. A Chinese, Japanese or Hindi
    one ends at its own mark, with no space after it: a vision of two sentences was
    taken whole as the affirmation."""
    # (marks it begins with end no sentence: cut after them, "！！我每天跑步" had an empty
    # first sentence, and a goal with nothing else to say no scene, a ZeroDivisionError)
    text = " ".join(text.split()).lstrip(_CLOSED_SENTENCE + " ")
    first = (_sentences(text) or [""])[0]
    return first.rstrip(" .!?;:," + _CLOSED_SENTENCE)


def _third_person_s(verb: str) -> str:
    """run -> runs, carry -> carries, go -> goes (for "my business will grow")."""
    v = verb.lower()
    if v in ("be", "am"):
        return "is"
    if v == "have":
        return "has"
    if re.search(r"[^aeiou]y$", v):
        return verb[:-1] + "ies"
    if re.search(r"(s|sh|ch|x|z|o)$", v):
        return verb + "es"
    return verb + "s"


def _base_verb(verb: str) -> str:
    """runs -> run, carries -> carry, goes -> go (for "She runs" -> "I run")."""
    v = verb.lower()
    irregular = {"is": "am", "has": "have", "was": "am", "does": "do", "goes": "go"}
    if v in irregular:
        return irregular[v]
    if v.endswith("ies") and len(v) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z)es$", v):
        return verb[:-2]
    if v.endswith("s") and not v.endswith("ss"):
        return verb[:-1]
    return verb


#: "runs" -> "run" for the verbs we know, so "I runs" can be put right
_S_FORMS = {_third_person_s(v): v for v in _CLAUSE_VERBS}


def _is_adverb(word: str) -> bool:
    w = word.lower()
    if w in _ADVERBS:
        return True
    return w.endswith("ly") and len(w) > 4 and w not in _VERBS and w not in _NOT_ADVERBS


def _is_plural(word: str) -> bool:
    """A rough guess that a subject word is plural ("kids", "finances", not "business")."""
    w = word.lower()
    if w in ("we", "they", "you", "people", "children", "parents"):
        return True
    return len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ness", "ics"))


def _present_tense(text: str) -> str:
    """Drop future phrasing anywhere in the sentence: affirmations speak as if done.

    "will" takes its subject's present tense: "I will be" -> "I am", "my kids will be" ->
    "my kids are", "my business will (not) grow" -> "my business grows (does not grow)".
    """
    text = re.sub(r"\bI['’]ll\b", "I will", text)
    text = re.sub(r"\bI['’]m\b", "I am", text)
    text = re.sub(r"\bwon['’]t\b", "will not", text)
    text = re.sub(r"\b(I)\s+am\s+going\s+to\s+be\b", r"\1 am", text)
    text = re.sub(r"\b(I)\s+am\s+going\s+to\s+(?=[a-z])(?!the\b|a\b|an\b|my\b|our\b)", r"\1 ", text)
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w.lower() not in ("will", "shall") or not out:
            out.append(w)
            i += 1
            continue
        j = i + 1
        negative = j < len(words) and words[j].lower() == "not"
        j += negative
        adverbs: list[str] = []
        while j < len(words) - 1 and _is_adverb(words[j]):
            adverbs.append(words[j])
            j += 1
        if j >= len(words) or words[j].lower() in _FUNCTION_WORDS:
            if out[-1] not in ("I", "am"):
                out.append(w)  # "free will", not the future
            i += 1
            continue
        subject, verb = out[-1], words[j]
        person = 1 if subject == "I" else 2 if _is_plural(subject) else 3
        if verb.lower() == "be":
            be = {1: "am", 2: "are", 3: "is"}[person]
            out.extend([be, *(["not"] if negative else []), *adverbs])
        elif negative:
            out.extend(["does not" if person == 3 else "do not", *adverbs, verb])
        else:
            out.extend([*adverbs, _third_person_s(verb) if person == 3 else verb])
        i = j + 1
    return " ".join(out)


def _is_comparative(word: str) -> bool:
    """happier, stronger, fitter, better: "happier every day" reads as a state."""
    w = word.lower()
    if w == "better":
        return True
    if w == "earlier" or len(w) < 5 or not w.endswith("er"):
        return False
    stem = w[:-2]
    if stem.endswith("i"):
        return _is_adjective(stem[:-1] + "y")
    if len(stem) > 2 and stem[-1] == stem[-2]:  # fitter -> fit
        stem = stem[:-1]
    return stem in _ADJECTIVES or stem + "e" in _ADJECTIVES


def _is_adjective(word: str) -> bool:
    w = word.lower().strip(",")
    if w in _ADJECTIVES or w.endswith("-free"):
        return True
    if w in _VERBS or len(w) < 4:
        return False
    return w.endswith(_ADJ_SUFFIXES)


def _is_gerund(word: str) -> bool:
    w = word.lower().strip(",")
    return (
        w.endswith("ing")
        and len(w) > 4
        and re.search(r"[aeiouy]", w[:-3]) is not None
        and w not in _NOT_GERUNDS
    )


def _reads_as_state(words: list[str]) -> bool:
    """Does the phrase describe how the person *is* ("Vibrant and energetic", "Financially
    free", "Running my own studio") rather than a thing they have ("Daily yoga")?"""
    w0 = words[0].lower().strip(",")
    if _is_gerund(w0):
        return True
    if w0.endswith("ly") and w0 not in _NOT_ADVERBS:
        return True
    if len(words) > 1 and words[1].lower().strip(",") == "free":  # "Debt free", "Pain free"
        return True
    if not (_is_adjective(w0) or _is_comparative(w0)):
        return False
    return (
        len(words) == 1
        or words[0].endswith(",")
        or words[1].lower() in _LINKERS
        or _is_adjective(words[1])
        or _is_comparative(words[1])
        # "Confident speaking in public"
        or (_is_gerund(words[1]) and len(words) > 2 and words[2].lower() in _LINKERS)
    )


def _names_a_role(words: list[str]) -> bool:
    for w in words[:4]:
        w = w.lower().strip(",.")
        if w in _ROLE_NOUNS:
            return True
        if w not in _NOT_ROLES and len(w) > 4 and w.endswith(("er", "or", "ist", "ian")):
            return True
    return False


def _is_clause(words: list[str], first: int) -> bool:
    """Does a phrase carry its own verb ("My business thrives", "Life is good")? Verb forms
    ending in -s count from word `first` on: "My books" is a thing, "My business grows" a
    clause; "is", "will" and the like count anywhere but at the end ("Free will")."""
    for i in range(1, min(len(words), 7)):
        w = words[i].lower().strip(",").replace("’", "'")
        before = words[i - 1].lower()
        if before in ("that", "which", "who", "to"):
            continue  # "a house that is mine", "a plan to grow"
        if w in _AUX and i < len(words) - 1:
            return True
        if w in _CLEAR_S_FORMS or (w == "i" and before == "and"):
            return True
        if i >= first and (w in _S_FORMS or (w in _CLAUSE_VERBS and _is_plural(before))):
            return True
    return False


def _shorten(text: str, limit: int = MAX_AFFIRMATION) -> str:
    """Cut a long line at a clause boundary (else a word boundary) so it fits on screen."""
    text = text.strip().rstrip(" .,;:")
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = -1
    for sep in (";", " - ", " — ", ",", " while ", " so ", " because ", " and ", " with "):
        i = head.rfind(sep)
        if i >= 24:
            cut = max(cut, i)
    if cut < 0:
        cut = head.rfind(" ")
        if cut < 0:  # no space (Thai, Chinese): between letters, not before a mark
            cut = limit
            while cut > 1 and unicodedata.category(text[cut])[0] == "M":
                cut -= 1  # ที่'s marks stay with their consonant
    words = text[:cut].rstrip(" ,;:-—").split()
    while len(words) > 3 and words[-1].lower() in _TRAILING_STOPWORDS:
        words.pop()
    return " ".join(words)


_QUOTES_AND_STOPS = " \"'“”‘’«».,;:!?…"
#: Markdown's emphasis of a word or words (`*Run*`, `**every** day`, `_now_`): its marks
#: are no words to show
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}([^\s*](?:[^*]*[^\s*])?)\*{1,2}(?![\w*])")


def _clean(text: str) -> str:
    """The goal line's first sentence, without list markers, quotes, edge punctuation or a
    deadline ("by 2027"): the affirmation speaks as if it is already true."""
    s = " ".join(text.split())
    # a list marker is one with a space after it (a bullet, any way): "-10 kg by summer",
    # "#1 bestseller", ">100 clients" and "~10k steps" lost the sign that is their meaning
    # ("I have 10 kg"), and "*Run* every day" kept one asterisk of its emphasis
    s = _EMPHASIS.sub(r"\1", s)
    # (and one written against a letter, "-Run a marathon": a sign is one before a digit)
    s = re.sub(r"^(?:[-–—*>#~]+(?:\s+|(?=[^\W\d_]))|•+\s*|\d{1,2}[.)]\s+)+", "", s)
    s = _first_sentence(s.lstrip(_QUOTES_AND_STOPS + "–—•"))
    s = _DEADLINE.sub("", s)
    # (a leading "-" is a minus sign by now: the list markers are gone)
    return _closed_quotes(s.strip(_QUOTES_AND_STOPS + "–—").rstrip(_QUOTES_AND_STOPS + "-"))


#: a quote's closing mark by its opening one (German opens with „ and closes with “)
_CLOSING = {"„": "“", "‚": "‘", "“": "”", "‘": "’", "«": "»"}


def _closed_quotes(s: str) -> str:
    """`s` with a quote mark the edge strip took put back at that edge: `Read "War and
    Peace"` was shown `I read "War and Peace` (a quote opened and never closed), `"Dune"
    is my favourite` `dune" is my favourite`. A quote that wraps the whole line still
    goes (its two marks were stripped)."""
    opened: list[str] = []
    lost_opening = ""
    for i, ch in enumerate(s):
        top = opened[-1] if opened else ""
        if ch in _CLOSING.values() and _CLOSING.get(top) == ch:
            opened.pop()
        elif ch in "„‚«“" or (ch == "‘" and (i == 0 or not s[i - 1].isalnum())):
            opened.append(ch)
        elif ch in "”»" and not lost_opening:
            lost_opening = {"”": "“", "»": "«"}[ch]
    if s.count('"') % 2:
        first = s.index('"')
        if first and s[first - 1] != " " and not lost_opening and not opened:
            lost_opening = '"'  # a word ends with it: it closes a quote
        else:
            opened.append('"')
    elif (at := s.rfind(" '")) >= 0 and not re.search(r"\w'(?!\w)", s[at + 2 :]):
        opened.append("'")  # a single quote opening a word (not "I'm", "runners' ")
    closing = "".join(_CLOSING.get(o, o) for o in reversed(opened))
    return lost_opening + s + closing


def _expand(s: str) -> str:
    """Spell out the contractions the rules match on ("I'd like to" -> "I would like to");
    "your" becomes "my" ("Love your body" -> "I love my body")."""
    for pattern, repl in (
        (r"\bi['’]m\b", "I am"),
        (r"\bi['’]ll\b", "I will"),
        (r"\bi['’]ve\b", "I have"),
        (r"\bi['’]d\b", "I would"),
        (r"\b(we|they|you)['’]re\b", r"\1 are"),
        (r"\b(we|they|you|he|she|it)['’]ll\b", r"\1 will"),
        (r"\b(we|they|you)['’]ve\b", r"\1 have"),
        (r"\b(it|that|there|here|everything|life)['’]s\b", r"\1 is"),
        (r"\bwon['’]t\b", "will not"),
        (r"\bgonna\b", "going to"),
        (r"\bwanna\b", "want to"),
        (r"\bgotta\b", "have to"),
        (r"\byourself\b", "myself"),
        (r"\byour\b", "my"),
    ):
        s = re.sub(pattern, repl, s, flags=re.I)
    return s


def _from_i(rest: str) -> str:
    """The affirmation for "I <rest>": wishes, plans and the future read as done, and the
    verb agrees with "I" (`_agree` fixes the rest: "I does" -> "I do")."""
    rest = rest.strip(" ,")
    while rest:  # every pass shortens `rest` or stops
        if re.match(r"^(?:i\b(?!['’])|to(?:\s|$))", rest, re.I):  # "I I ...", "I'd like to to"
            rest = rest.split(maxsplit=1)[1] if " " in rest else ""
            continue
        if m := _GOING_TO_PLACE.match(rest):
            rest = "go to " + rest[m.end() :]
            break
        if m := _WANT_THING.match(rest):
            rest = "have " + rest[m.end() :]
            break
        shorter = _WISH_PREFIX.sub("", rest, count=1)
        if shorter == rest:
            break
        rest = shorter
    words = rest.split()
    lead: list[str] = []
    while words and (words[0].lower() == "not" or _is_adverb(words[0])):
        lead.append(words.pop(0))
    if words and words[0].lower() in ("be", "being"):  # "always be kind" -> "am always kind"
        return " ".join(["I am", *lead, *words[1:]])
    if not words:
        return " ".join(["I am", *lead])
    if lead and lead[0].lower() == "not":  # "(will) not give up" -> "do not give up"
        lead.insert(0, "do")
    if len(words) > 1 and words[0].lower() == "have" and words[1].lower() == "got":
        del words[1]  # "I've got a home" -> "I have a home"
    return " ".join(["I", *lead, *words])


def _negative(s: str) -> str | None:
    """Negative and adverb-led imperatives: "Don't worry so much" -> "I don't worry so
    much", "Never give up" -> "I never give up", "Always be kind" -> "I am always kind"."""
    m = re.match(
        r"^(?P<neg>don['’]t|do\s+not|not|never|always|no\s+longer|(?:\w+ly))\s+(?P<rest>.+)$",
        s,
        re.I,
    )
    if not m:
        return None
    neg, rest = m.group("neg"), m.group("rest")
    low = neg.lower()
    if all(w.strip(".,!").lower() in ("again", "ever", "anymore", "more") for w in rest.split()):
        return ""  # "Never again": no deed or state to affirm (a category line instead)
    if low.endswith("ly") and (low in _NOT_ADVERBS or not _is_adverb(low)):
        return None
    words = rest.split()
    w1 = words[0].lower().strip(",")
    negation = low.startswith(("don", "do ", "not", "no "))
    if w1 in ("be", "being"):
        return " ".join(["I am", "not" if negation else low, *words[1:]])
    if not negation and w1 not in _VERBS and (_is_adjective(w1) or _is_comparative(w1)):
        return f"I am {low} {rest}"  # "Always happy", "Truly free"
    if low.endswith("ly") and low not in _ADVERBS:
        # "Truly happy" is a state (see _reads_as_state), "Calmly lead my team" an action
        return f"I {low} {rest}" if w1 in _VERBS else None
    if w1 in _DETERMINERS:  # "Not a smoker", "Always a student"
        return " ".join(["I am", "not" if negation else low, rest])
    if low == "not":
        return f"I do not {rest}"
    return f"I {_lower_first(neg)} {rest}"


def _lead_then_i(s: str, words: list[str]) -> tuple[str, str] | None:
    """ "Every morning, I meditate" -> ("Every morning", "meditate")."""
    m = re.search(r",\s+I\s+(?=\S)", s)
    if m:
        return s[: m.start()], s[m.end() :]
    if words[0].lower() in _TIME_LEADS:
        for i, w in enumerate(words[1:7], start=1):
            if w == "I" and i + 1 < len(words):
                return " ".join(words[:i]), " ".join(words[i + 1 :])
    return None


def _affirm(s: str) -> str:
    """The first-person sentence for a cleaned goal line, before tense and agreement."""
    words = s.split()
    if not words:
        return ""
    w0 = words[0].lower().strip(",")
    rest = " ".join(words[1:])
    w1 = words[1].lower().strip(",") if len(words) > 1 else ""

    if w0 == "i":
        return _from_i(rest)
    if re.match(r"^I(?!\w)", s):  # "I-", "I*", an unknown "I'x": the person speaking
        return _from_i(s[1:])
    if all(w.lower().strip(",") in _FUNCTION_WORDS for w in words):
        return ""  # nothing to affirm ("To", "the")
    if w0 == "you":  # "You are enough" -> "I am enough"
        return _from_i(rest)
    if w0 in ("she", "he", "they") and rest:
        return _from_i(" ".join([_base_verb(words[1]), *words[2:]]))
    if w0 not in ("my", "our", "we") and (split := _lead_then_i(s, words)):
        lead, main = split
        return f"{_from_i(main)} {_lower_first(lead.strip(' ,'))}"
    if w0 == "we":
        return "I love that " + _lower_first(s)
    if w0 in ("my", "our"):
        if _is_clause(words, 2):
            return "I love that " + _lower_first(s)
        return ("I am " if _names_a_role(words[1:]) else "I have ") + _lower_first(s)
    if w0 == "to":  # an infinitive: "To run a marathon" -> "I run a marathon"
        if not rest:
            return ""
        if w1 in _DETERMINERS or (words[1][:1].isupper() and w1 != "i"):
            return "I go to " + rest  # "To the mountains", "To Japan"
        return _affirm(rest)
    if _GOING_TO_PLACE.match(s) or _WISH_START.match(s) or _WANT_THING.match(s):
        return _from_i(s)  # "Going to the gym daily", "Want to run a marathon", "Want a dog"
    if (negative := _negative(s)) is not None:
        return negative
    if w0 in ("become", "be", "being"):
        return "I am " + rest
    if w0 == "having":
        return "I have " + rest
    if w0 in _VERBS and w1 not in _AUX:  # not "Change is good"
        return "I " + _lower_first(s)
    if w0 == "wanted":  # "Wanted to be a teacher": the wish, as for "Want to ..."
        return _affirm("Want " + rest)
    if w0 == "got" or (w0 in (_PAST_PARTICIPLES.keys() | _PAST_STATES.keys()) and w1 not in _AUX):
        return "I " + _lower_first(s)  # "Paid off my debt": _from_past says it as done
    if _past_form(w0) and w1 in _DETERMINERS:
        return "I " + _lower_first(s)  # "Finished my first novel"
    if w0 in ("a", "an", "the"):
        if _is_clause(words, 2):
            return "I love that " + _lower_first(s)  # "The kids are happy"
        return ("I am " if _names_a_role(words[1:]) else "I have ") + _lower_first(s)
    if _is_clause(words, 99) and (w0 not in _FUNCTION_WORDS or w0 in ("it", "all", "this")):
        return "I love that " + _lower_first(s)  # "Life is good", "Change is good"
    if w0 in _QUANTITY:
        return "I have " + _lower_first(s)  # "More time with family", "No debt"
    if re.match(r"^[-+~>#≈]?[$£€¥]?\d", w0):  # (a sign kept: "-10 kg", ">100", "#1")
        if re.search(r"\b(?:a|per|an)\s+(?:year|month|week|hour)\b|annually|/(?:yr|year)", s):
            return "I earn " + s  # "$100k a year"
        if any(_is_comparative(w) for w in words) or re.search(r"\byears?\s+old\b", s):
            return "I am " + s  # "10 kg lighter"
        return "I have " + s  # "100k in savings"
    if _reads_as_state(words):
        return "I am " + _lower_first(s)
    if (
        len(words) > 1
        and w0.isalpha()
        and w0 not in _FUNCTION_WORDS
        and (w1 in _DETERMINERS or words[1][:1].isdigit())
    ):
        return "I " + _lower_first(s)  # "<verb> the/my/20% ...": an unlisted imperative
    return "I enjoy " + _lower_first(s)


def _agree(text: str) -> str:
    """Make every verb after "I" agree with it and mend what the rules may leave behind:
    "I does" -> "I do", "I was" -> "I am", "I runs" -> "I run", "I I" -> "I",
    "I the best" -> "I am the best"."""
    text = re.sub(r"\bI(?:\s+I\b)+", "I", text)

    def fix(m: re.Match[str]) -> str:
        word = m.group(1)
        low = word.lower().replace("’", "'")
        if low in _I_AGREEMENT:
            return "I " + _I_AGREEMENT[low]
        if low in _S_FORMS:
            return "I " + _S_FORMS[low]
        if low in ("the", "a", "an"):
            return "I am " + word
        return m.group(0)

    for _ in range(3):  # again for an "I" that a previous match swallowed ("it'I a")
        text = re.sub(r"\bI\s+([A-Za-z'’]+)\b(?!['’])", fix, text)
    return re.sub(r"\bI am(?:\s+(?:am|is|are|be)\b)+", "I am", text)


def _latin_script(text: str) -> bool:
    """Whether `text` is written in the Latin alphabet (most of its letters, or it has
    none: "$100k"): the rules here phrase English, and only Latin text can be English."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(unicodedata.name(c, "").startswith("LATIN") for c in letters)
    return not letters or 2 * latin > len(letters)


#: common words of the other languages people write goals in with the Latin alphabet
#: that are not English words, and the words their goals are most often made of ("viajar",
#: "zdrowy", "perhe": a short line, "Viajar a Japón", has no small word to tell it by):
#: a word an English goal may hold ("in", "a", "me", "die", "den", "bin", "hat", "per",
#: "pour", "vie", "plus", "todo", "met", "will", "so", "also", "her", "ben", "men",
#: "barn", "glad", "stark", "forte", "mine", "tai", "van", "nap"), or a name that may
#: start an English line ("Dan", "Sam", "Ada", "Ali", "Como", "Dom"), or an English short
#: form or loanword ("ha", "ya", "til", "fri", "er", "og", "co", "po", "ko", "fi", "ev",
#: "nova", "casa", "oma": "Rock til dawn", "Fri date nights", "Sci fi convention", "Oma
#: turns 90" read as Norwegian, Swedish, Romanian, Finnish), is in none of them, and the
#: English rules' own words and a sample of common English ones in none
#: (`test_no_english_sign_is_another_language_s_word`). A word two languages share is in
#: both
_LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "de": _words(
        """
        ich mein meine meinen meinem meiner und ist sind sein nicht mit für auf ein eine
        einen einem einer der das dem wir uns unser unsere jeden jede jeder jedes täglich
        mehr sehr zu zum zur auch habe haben werde wird bei vom nach immer ganz bis ohne
        reisen laufen lernen kaufen leben gehen machen schreiben lesen sparen verdienen
        tanzen singen kochen wandern schwimmen arbeiten studieren familie gesundheit geld
        liebe arbeit glücklich frei ruhig gesund dankbar stolz frieden zeit morgen
        jahr
        """
    ),
    "fr": _words(
        """
        je suis mon ma mes et avec les des une est être tous toutes chaque jour jours dans
        sur nous notre très du aux qui le la de que en un courir apprendre acheter vivre
        aller avoir écrire lire économiser gagner danser cuisiner
        nager travailler étudier maison famille santé amour travail heureux heureuse libre
        calme fier fière reconnaissant paix monde enfants toujours jamais matin
        ce cette ses
        """
    ),
    "es": _words(
        """
        yo soy estoy mi mis y el los las es con para por una cada día todos todas tengo
        vivo vida mucho muy ser estar nuestra nuestro del al que de la lo en un ir viajar
        correr aprender comprar vivir tener hacer escribir ahorrar ganar bailar cantar
        cocinar conocer caminar nadar trabajar estudiar terminar empezar abrir crear
        construir viaje familia salud dinero trabajo feliz libre tranquilo
        tranquila fuerte sano agradecido agradecida orgulloso orgullosa paz mundo
        tiempo hijos siempre nunca más pero mañana año
        """
    ),
    "it": _words(
        """
        io sono il lo gli mio mia miei ogni giorno tutti della nella più molto essere ho
        vita che di e la con una mi un viaggiare correre imparare comprare vivere andare
        avere scrivere leggere risparmiare guadagnare ballare cantare cucinare conoscere
        camminare nuotare lavorare studiare famiglia soldi amore lavoro felice
        libero libera tranquillo sano grato orgoglioso mondo figli sempre
        senza mattina anno al alla nel
        """
    ),
    "pt": _words(
        """
        eu sou estou meu minha meus uma dia ter não muito mais em e de que com todos
        cada vida ser viajar correr aprender comprar viver ir fazer escrever ler poupar
        ganhar dançar cantar cozinhar conhecer caminhar nadar trabalhar estudar
        família saúde dinheiro trabalho feliz livre tranquilo saudável grato
        orgulhoso paz mundo filhos sempre nunca até para na os ao à pela pelo
        manhã
        """
    ),
    "nl": _words(
        """
        ik mijn het een elke dag voor wij ons niet en reizen lopen leren kopen leven gaan
        hebben maken schrijven lezen sparen verdienen dansen zingen koken werken studeren
        huis familie gezondheid geld liefde werk gelukkig vrij rustig sterk gezond
        dankbaar vrede wereld tijd kinderen altijd nooit zonder naar zijn heb wil
        meer veel graag ochtend
        """
    ),
    "pl": _words(
        """
        ze na nie się jest jestem są że dla od mój moja moje mojej mojego
        moim moją każdego każdy każdej codziennie być mieć chcę więcej bardzo rano
        dzień dnia życie zdrowy zdrowa zdrowie silny silna wolny wolna szczęśliwy
        szczęśliwa spokojny spokojna spokój wdzięczny wdzięczna rodzina rodziną rodziny
        domu praca pracy pieniądze podróżować biegać uczyć kupić żyć czas świat
        świecie zawsze nigdy bez przez przy oraz albo tak też także nad przed razem dzieci
        mieszkanie samochód nowy nowa własny własna własnym
        """
    ),
    "cs": _words(
        """
        ve ze na je jsem jsme jsou si můj moje moji mého mém mít být chci mám
        každý každé každou každého denně ráno víc více velmi vždy nikdy bez od nebo
        že také taky zdravý zdravá zdraví silný silná svobodný šťastný šťastná vděčný
        klidný rodina rodinou rodiny domov dům peníze práce cestovat běhat učit koupit žít
        svět světě čas děti spolu nový nová vlastní
        """
    ),
    "sk": _words(
        """
        vo zo na je som sme sú si môj moja moje mať byť chcem mám každý každé
        každú deň ráno viac veľmi vždy nikdy bez od alebo ako že tiež zdravý zdravá
        zdravie silný silná slobodný šťastný šťastná vďačný rodina rodinou domov
        peniaze práca cestovať behať učiť kúpiť žiť svet svete čas deti spolu nový nová
        vlastný
        """
    ),
    "sv": _words(
        """
        och jag är att en ett inte vår vårt våra varje dag dagen dagligen
        för på som har vill vara bli mer mycket alltid aldrig utan eller också
        hemma familj familjen hälsa lycklig lugn tacksam frihet pengar arbete jobb
        jobba springa lära köpa leva världen tid tillsammans nytt nya egen eget
        egna morgon
        """
    ),
    "no": _words(
        """
        jeg en et ikke vår hver dag dagen daglig på som har vil
        være bli mye alltid aldri uten eller også hjem hjemme familie familien helse sunn
        sterk lykkelig rolig takknemlig frihet penger arbeid jobb reise løpe lære
        kjøpe leve verden tid sammen nytt nye egen eget egne morgen hva hvor
        """
    ),
    "da": _words(
        """
        jeg en et ikke vores mit hver dag dagen daglig på af som har vil
        være blive meget altid aldrig uden eller også hjem hjemme familie familien
        helbred sund stærk lykkelig rolig taknemmelig frihed penge arbejde rejse
        løbe lære købe leve verden tid sammen nyt nye egen eget egne morgen
        hvad hvor
        """
    ),
    "fi": _words(
        """
        ja olen minä minun minulla olla joka jokainen päivä päivittäin kanssa että ei
        hän enemmän paljon perhe perheen perheeni terve terveys vahva vapaa onnellinen
        kiitollinen rauhallinen koti kotona raha rahaa työ työssä matkustaa juosta oppia
        ostaa elää aamu aamulla haluan voin olemme myös aina koskaan ilman kun kuin mutta
        niin uusi oman omaa maailma aikaa lapset yhdessä talo asunto
        """
    ),
    "tr": _words(
        """
        ve bir gün günü ile için daha çok benim olmak olarak var yok mi da sağlıklı
        sağlık güçlü özgür mutlu huzurlu minnettar aile ailem ailemle evim para iş
        işim seyahat koşmak öğrenmek almak yaşamak sabahları gibi kadar sonra önce
        istiyorum yapmak etmek gitmek okumak yazmak dünya dünyayı zaman çocuklar birlikte
        yeni kendi kendime
        """
    ),
    "id": _words(
        """
        saya aku di ke dari untuk dengan setiap ini itu akan bisa boleh lebih
        sangat tidak tak keluarga rumah sehat sihat kuat bahagia bebas bersyukur tenang
        punya memiliki mempunyai menjadi belajar pergi pagi kerja bekerja uang hidup
        bersama juga selalu sudah mau ingin lari berlari jalan perjalanan waktu
        anak kita adalah semua banyak baru atau tapi tetapi pada dalam tahun dunia
        sendiri membeli beli keliling ketika supaya lagi
        """
    ),
    "ro": _words(
        """
        și în cu la un să meu mele fiecare zi zilnic sunt vreau familia
        familie sănătos sănătoasă sănătate puternic puternică liber liberă fericit
        fericită recunoscător casă bani muncă călători călătoresc alerga învăța cumpăra
        trăi dimineață pentru este sau dar foarte mereu toate timp viață lume
        lumii copii împreună nou nouă propriu propria al lui
        """
    ),
    "hu": _words(
        """
        és egy minden napon naponta vagyok hogy nem akarok szeretnék szeretném család
        családom családommal egészséges egészség erős szabad boldog hálás nyugodt ház
        házat lakás pénz munka utazni futni tanulni venni élni reggel reggelente mindig
        soha több nagyon velem el világ világot idő gyerekek együtt új saját akar
        lesz lenni kell
        """
    ),
    "hr": _words(
        """
        na je smo su svaki svakog svako moj moja moje mojom imati biti želim
        hoću zdrav zdrava zdravlje jaka slobodan slobodna sretan sretna srećan
        zahvalan miran obitelj obitelji porodica porodicom kuća kuću novac posao putovati
        trčati učiti kupiti živjeti živeti jutro jutra više vrlo uvijek uvek nikad nikada
        za od ili kao da svijet svet vrijeme vreme djeca deca zajedno novi svoj
        svoja svoje
        """
    ),
    "tl": _words(
        """
        ng mga ako na aking akong araw araw-araw bawat maging magkaroon
        pamilya bahay pera trabaho masaya malakas malaya malusog nais kasama
        para siya tayo lagi palagi mundo maglakbay tumakbo matuto bumili
        mabuhay umaga oras anak magkasama bago sarili
        """
    ),
    "sw": _words(
        """
        na kila siku ni kwa yangu wangu changu familia nyumba pesa kazi furaha
        afya kuwa kusafiri kukimbia kujifunza kununua kuishi asubuhi zaidi daima bila
        lakini dunia duniani wakati watoto pamoja mpya nataka ninataka mwenye nguvu huru
        shukrani
        """
    ),
}
_FOREIGN_WORDS = frozenset().union(*_LANGUAGE_WORDS.values())
#: the words of the first six languages' lists (German, French, Spanish, Italian,
#: Portuguese, Dutch, as at 4d658ce), and all of German's: such a first word before a
#: capitalised one starts a sentence ("Mein Haus", "Vivo Mi Vida", "Para Gliding";
#: German capitalises its nouns, "Meine Familie"), as it did, where any other starts a
#: name (`_language_signs`)
_SENTENCE_STARTS = _LANGUAGE_WORDS["de"] | _words(
    """
    al aux avec cada chaque che com con dag dans das de del della di dia du día e een el
    elke em en es essere est estar estou estoy et eu giorno gli het ho ik il io je jour
    jours la las le les lo los ma mais mes meu meus mi mia miei mijn minha mio mis molto
    mon mucho muito muy nella niet notre nous nuestra nuestro não ogni ons para più por
    que qui ser sono sou soy suis sur tengo ter todas todos tous toutes très tutti uma
    una une vida vita vivo voor wij y yo être
    """
)
#: letters that, of the twenty languages, only one writes (Turkish's dotless "ı", "ğ",
#: and "ş": Romanian's "ș" has a comma; not "ó" or "à", several languages'): for the
#: closing, a word of no list with one is a word of that language ("koşuyorum")
_OWN_LETTERS = {
    lang: frozenset(letters)
    for lang, letters in {
        "tr": "ğış",
        "pl": "ąęłńśźż",
        "cs": "ěůř",
        "ro": "ășț",
        "hu": "őű",
    }.items()
}
#: the closing card's line in those languages (not Slovak, Tagalog or Swahili: those
#: close in English), for a goals.yaml with no `closing` and no goal in English
#: (`closing_for`): DEFAULT_CLOSING's thanks, with no word whose form says the person's
#: gender ("agradecido/agradecida", Polish "wdzięczny/wdzięczna": "Dziękuję za...")
_CLOSINGS = {
    "de": "Ich bin dankbar für alles, was ich habe, und alles, was ich werde",
    "fr": "Merci pour tout ce que j'ai et tout ce que je deviens",
    "es": "Agradezco todo lo que tengo y todo lo que estoy llegando a ser",
    "it": "Ringrazio per tutto ciò che ho e tutto ciò che sto diventando",
    "pt": "Agradeço por tudo o que tenho e por tudo o que estou me tornando",
    "nl": "Ik ben dankbaar voor alles wat ik heb en alles wat ik word",
    "pl": "Dziękuję za wszystko, co mam, i za wszystko, kim się staję",
    "cs": "Děkuji za vše, co mám, i za vše, čím se stávám",
    "sv": "Jag är tacksam för allt jag har och allt jag håller på att bli",
    "no": "Jeg er takknemlig for alt jeg har og alt jeg er i ferd med å bli",
    "da": "Jeg er taknemmelig for alt, hvad jeg har, og alt, hvad jeg er ved at blive",
    "fi": "Olen kiitollinen kaikesta, mitä minulla on, ja kaikesta, miksi olen kasvamassa",
    "tr": "Sahip olduğum her şey ve dönüştüğüm her şey için minnettarım",
    "id": "Saya bersyukur atas semua yang saya miliki dan diri saya yang terus bertumbuh",
    "ro": "Mulțumesc pentru tot ce am și pentru tot ce devin",
    "hu": "Hálás vagyok mindenért, amim van, és mindenért, amivé válok",
    "hr": "Hvala za sve što imam i za sve što postajem",
}
#: French and Italian elisions: "j'ai", "c'est", "l'amore" (English's "I'm" is not one)
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|dell|nell|all|dall|un)['’]\w", re.I)
#: words shared with those languages, so no sign of English: "will" (German "I want"),
#: "is" (Dutch), "was" (German "what"), "come" (Italian "how"), "fit", "kind", "rest"...
_SHARED_WORDS = _words(
    """
    a an in so no me die den bin hat will is was war come fit kind rest son also am
    man see sing hand warm best fast art most still
    """
)
#: signs of English: its common words and the words the rules here know
_ENGLISH_COMMON = _words(
    """
    the and my i i'm i'll i've i'd to of with for every each are be have has will on at
    by from more our we you it that this all or not do don't want love life family day
    days year years time home your being become free happy healthy
    """
)
_ENGLISH_KNOWN = _VERBS | _ADJECTIVES | _ROLE_NOUNS | _ADVERBS | _CLAUSE_VERBS | _AUX
_ENGLISH_WORDS = (
    (_ENGLISH_COMMON | _ENGLISH_KNOWN | _CLEAR_S_FORMS) - _SHARED_WORDS - _FOREIGN_WORDS
)


#: the small words inside names ("Camino de Santiago", "Torres del Paine", "Vincent
#: van Gogh"): between two capitalised words they are part of the name, no sign. Not
#: German's articles: German capitalises every noun ("Frieden der Seele", "Das Haus"),
#: so "der"/"den" are a name's only after "van"/"von" ("van der Berg")
_NAME_PARTICLES = _words("de del della dei di da do dos du des la le les los las el van von y")
_AFTER_VAN = {"van", "von"}
#: the particles that start a name kept capitalised in a phrase ("I enjoy Las Vegas
#: wedding", "I hike El Camino de Santiago"): not "do", an English word ("Do Yoga Daily")
_NAME_STARTS = _NAME_PARTICLES - {"do"}
#: what is stripped from a word before it is looked up: German and French quotation
#: marks too („Ich bin frei“, ‚so‘, « oui »)
_INVERTED = "¡¿"
_INVERTED_MARK = re.compile(f"[{_INVERTED}]")
_WORD_EDGES = _QUOTES_AND_STOPS + "„‚()[]-–—" + _INVERTED


def _capitalised(word: str) -> bool:
    """ "Vegas", "LA": a name, or a German noun."""
    return word[:1].isupper()


def _language_signs(text: str) -> tuple[float, float]:
    """(signs of English, signs of another Latin-alphabet language) in `text`
    (`_signs`)."""
    english, foreign, _ = _signs(text)
    return english, foreign


def _signs(text: str) -> tuple[float, float, list[str]]:
    """(signs of English, signs of another Latin-alphabet language, the words counted
    as the latter, lower-case) in `text`: words of
    each list, an elision ("j'ai"), and, as half a sign, another lower-case word with a
    letter English lacks ("maratón", "glücklich"; not "Zürich" or "São Paulo", names).
    Names are no sign: a foreign word counts lower-case or as the first word, but for a
    first word that is a name's particle before a capitalised word ("Las Vegas wedding",
    "Le Mans 24 hours race", "El Paso"), and a particle between capitalised words not the
    line's first ("the Camino de Santiago") not at all. A line's first word is
    capitalised as a sentence's ("Meine Familie", "Correr el Camino": German, Spanish),
    and German capitalises its nouns: neither is a name."""
    english = foreign = 0.0
    counted: list[str] = []
    words = [raw.strip(_WORD_EDGES) for raw in text.split()]
    words = [w for w in words if w]
    # the first line's words: a name the first word starts ends there (a goal's lines
    # joined, "¡Libre!" then "¡Libre!, Rower", are no name "Libre Libre")
    head = len([w for w in (raw.strip(_WORD_EDGES) for raw in text.split("\n", 1)[0].split()) if w])

    def particle(j: int) -> bool:
        """words[j] is a name's small word ("de", "van", "der" after "van")."""
        low = words[j].lower() if 0 <= j < len(words) else ""
        before = words[j - 1].lower() if j > 0 else ""
        return low in _NAME_PARTICLES or (low in ("der", "den") and before in _AFTER_VAN)

    def name_at(j: int, end: int = len(words)) -> bool:
        """A capitalised word at j, or particles then one ("van der Berg"), before end."""
        while j < end and particle(j) and words[j].islower():
            j += 1
        return j < end and _capitalised(words[j])

    def name_before(j: int) -> bool:
        """A capitalised word before j, particles between, that is not the line's first."""
        j -= 1
        while j >= 0 and particle(j) and words[j].islower():
            j -= 1
        return j >= 1 and _capitalised(words[j])

    def starts_name() -> bool:
        """The first word, capitalised, before a name ("Nova Scotia cottage", "Feliz
        Navidad party", "Ko Samui", "Mer de Glace hike"): part of it, not a sentence's
        first word, unless it is one of `_SENTENCE_STARTS`."""
        first = words[0]
        low = first.lower()
        return (
            first[:1].isupper()
            and first[1:] == low[1:]
            and low not in _SENTENCE_STARTS
            and name_at(1, head)
        )

    for i, word in enumerate(words):
        low = word.lower().replace("’", "'")
        if low in _ENGLISH_WORDS:
            english += 1
            continue
        if word == low and particle(i) and name_before(i) and name_at(i + 1):
            continue  # "de" in "the Camino de Santiago", "der" in "meet Mr van der Berg"
        if i == 0 and particle(0) and name_at(1):
            continue  # "Las" in "Las Vegas", "Le" in "Le Mans"
        if i == 0 and starts_name():
            continue  # "Nova" in "Nova Scotia cottage", "Mer" in "Mer de Glace hike"
        if word == low or (i == 0 and word[1:] == low[1:]):  # not "LA", "ET"
            if low in _FOREIGN_WORDS or _ELISION.match(low):
                foreign += 1
                counted.append(low)
            elif word.isalpha() and not word.isascii():
                foreign += 0.5
                counted.append(low)
    return english, foreign, counted


def reads_english(text: str, context: str = "") -> bool:
    """Whether the offline planner's English rules may phrase `text`: it is in the Latin
    alphabet and has no more signs of another language (German, French, Spanish...) than
    of English. A line with no signs either way ("Stark, frei") goes by `context` (the
    rest of its goal, one line of it a line of the text, judged line by line as the goal
    is, `_lines_signs`: a capitalised first word counts on every line, so a line is not
    English while its goal is not), and with none there either reads as English (as
    every line did)."""
    if not _latin_script(text):
        return False
    english, foreign = _language_signs(text)
    # Spanish's opening "¿" and "¡" are a sign as good as a word, for the line ("¿feliz?"
    # was "I feel ¿feliz"), not its goal: a goal in English may have one such line
    foreign += len(_INVERTED_MARK.findall(text))
    if not english and not foreign and context:
        english, foreign = _lines_signs(context.split("\n"))
    return foreign == 0 or english >= foreign


def _goal_lines(goal: Goal) -> list[str]:
    """The goal's lines in the person's words: what its language is judged on."""
    own = (goal.vision, goal.actions, goal.feelings, given_text(goal.affirmation))
    return [t for t in own if t]


def _file_lines(goals: Goals) -> list[str]:
    """What a goal with no sign of its language is judged by: every goal's lines, when
    the file is in another language, else none (it is English, as before). In another
    language means no goal's own signs read as English and more than half the
    Latin-alphabet goals have signs of another language: goals, not words, so one goal
    ("Hablar español con fluidez", "La dolce vita"), nor one of two, does not turn a
    person's short English goals ("Financial freedom", "Dream house": no sign) into
    "Financial freedom." with none of their stock lines. A goal in another script
    ("日本で暮らす") says nothing of a Latin-alphabet goal's language: it is not counted,
    nor its lines (each of its characters a letter English lacks)."""
    latin: list[Goal] = []
    foreign = 0
    for goal in goals.goals:
        if not _latin_script(_clean(goal.vision)):
            continue
        latin.append(goal)
        english, other = _lines_signs(_goal_lines(goal))
        if english and english >= other:
            return []
        foreign += other > english
    if 2 * foreign <= len(latin):
        return []
    return [line for goal in latin for line in _goal_lines(goal)]


def _goal_context(goal: Goal, file_lines: list[str]) -> str:
    """What a line with no sign of its language goes by: the rest of its goal ("Stark,
    frei" beside "Jeden Morgen laufen"), or, when the goal has none either, the rest of
    the file ("Rower" as a Polish file's goal was "I enjoy rower", with English stock
    lines). One line of the text a line (`reads_english` judges them line by line)."""
    lines = _goal_lines(goal)
    return "\n".join(lines if any(_lines_signs(lines)) or not file_lines else file_lines)


def _lines_signs(lines: list[str]) -> tuple[float, float]:
    """The signs (`_language_signs`) of each line, added up."""
    english = foreign = 0.0
    for line in lines:
        e, f = _language_signs(line)
        english, foreign = english + e, foreign + f
    return english, foreign


def _goal_reads_english(goal: Goal, file_lines: list[str] | None = None) -> bool:
    """Whether the goal as a whole is English: the signs of all its lines, not its vision
    alone ("El Camino de Santiago" with "Walk 20 km every weekend" is an English goal),
    and those of the file's lines when its own have none (as `_goal_context`). It
    decides the stock lines and the closing card; each line keeps its own judgement."""
    if not _latin_script(_clean(goal.vision)):
        return False
    english, foreign = _lines_signs(_goal_lines(goal))
    if not english and not foreign and file_lines:
        english, foreign = _lines_signs(file_lines)
    return foreign == 0 or english >= foreign


def closing_for(goals: Goals) -> str:
    """The closing card's line when goals.yaml gives none: `DEFAULT_CLOSING`, in English,
    unless no goal reads as English (`_goal_reads_english`) and the goals' words are most
    those of one language `_CLOSINGS` has a line in (a German or Polish movie ended on an
    English card). Other languages, or a tie (Norwegian and Danish share most of their
    small words), keep the English line: the person can write `closing`."""
    texts: list[str] = []
    file_lines = _file_lines(goals)
    for goal in goals.goals:
        if _goal_reads_english(goal, file_lines):
            return DEFAULT_CLOSING
        texts.extend(_goal_lines(goal))
    # every language counts, those with no closing line too (a Tagalog file's "na" is
    # Polish's as well: it must not close in Polish)
    counts = dict.fromkeys(_LANGUAGE_WORDS, 0)
    seen: dict[str, set[str]] = {lang: set() for lang in _LANGUAGE_WORDS}
    accented = 0  # words of no list with a letter English lacks ("koşuyorum")
    # only the words that are signs of a language (`_signs`): not a name's "Da" or
    # "Di" ("Da Nang beach", "Di Caprio film festival" closed in Turkish, Indonesian)
    for word in (w for line in texts for w in _signs(line)[2]):
        for lang in counts:
            # a word with a letter only one language's words have ("koşuyorum": ş) is
            # that language's
            if word in _LANGUAGE_WORDS[lang] or (
                word not in _FOREIGN_WORDS
                and not _OWN_LETTERS.get(lang, frozenset()).isdisjoint(word)
            ):
                counts[lang] += 1
                seen[lang].add(word)
        accented += word not in _FOREIGN_WORDS and word.isalpha() and not word.isascii()
    best = max(counts.values())
    langs = [lang for lang, n in counts.items() if n == best]
    # one word is no language's movie: "Mama mia" or "Pasta al dente" alone closed in
    # Italian or Spanish. Two different words of it (or one and a word with a letter
    # English lacks: "Her sabah koşuyorum"), and more signs of other languages than of
    # English
    english, foreign = _lines_signs(texts)  # line by line: "¿Feliz?" then "¡Libre!"
    enough = bool(langs) and len(seen[langs[0]]) + accented / 2 >= 1.5
    one = len(langs) == 1 and enough and foreign > english
    return _CLOSINGS.get(langs[0], DEFAULT_CLOSING) if one else DEFAULT_CLOSING


def _as_written(text: str) -> str:
    """A Latin-alphabet line in another language as the person wrote it, tidied for the
    screen: its first letter capitalised and one full stop, or its own "?" or "!" (with
    Spanish's "¿" or "¡" before it: "¿Soy feliz?"), and no English around it."""
    s = _shorten(_closed_quotes(" ".join(text.split()).strip('„“”‚‘"«» ')).lstrip("¡¿ "))
    if not s:
        return ""
    end = "."
    if s[-1] in "?!":
        end = s[-1]
        s = s.rstrip("?! ")
        opening = {"?": "¿", "!": "¡"}[end]
        if text.lstrip().startswith(opening):
            s = opening + s
    i = 1 if s[0] in "¿¡" else 0
    if i >= len(s):
        return ""
    first = s[i].upper()
    return s[:i] + (first if len(first) == 1 else s[i]) + s[i + 1 :] + end


def _end_mark(text: str) -> str:
    """The "?" or "!" that ends `text`'s first sentence, which `_clean` takes off."""
    first = (_sentences(" ".join(text.split())) or [""])[0]
    first = first.rstrip(_QUOTES_AND_STOPS.replace("?", "").replace("!", "") + "“")
    return first[-1] if first[-1:] in ("?", "!") else ""


def _own_words(text: str) -> str:
    """A goal line in another language as the person wrote it (`_as_written`)."""
    s = _clean(text)
    return _as_written(s + _end_mark(text)) if s else ""


def first_person(text: str, context: str = "") -> str:
    """Phrase a goal line as a first-person, present-tense affirmation starting with "I ".

    "Vibrant and energetic every day" -> "I am vibrant and energetic every day";
    "Become a published author" -> "I am a published author";
    "I will run a marathon" -> "I run a marathon";
    "I'd like to learn the piano" -> "I learn the piano";
    "Going to the gym daily" -> "I go to the gym daily";
    "Don't worry so much" -> "I don't worry so much".
    A heuristic, not a grammar: it is tuned on how people write goals, and the person can
    always edit plan.yaml (or give `affirmation`) when it reads wrong. Returns "" when the
    line has nothing to affirm.
    """
    s = _clean(text)
    if not s:
        return ""
    if not _latin_script(s):
        # Hebrew, Arabic, Chinese, Hindi...: the person's words as they wrote them. The
        # English rules made "I enjoy רץ על החוף כל בוקר", a sentence in two languages
        return _shorten(s)
    if not reads_english(s, context):
        # German, French, Spanish...: "gesund und stark sein" became "I love that ich
        # gesunds und stark sein"; the person's own words instead
        return _own_words(text)
    return _english_rules(s)


#: a question asked of oneself: "Can I be free?", "Am I happy?", "Will I run it?"
_ASKED = re.compile(
    r"^(am|can|could|will|would|shall|should|may|might|do|does|did)\s+I\s+(?=\w)", re.I
)


def _told(s: str) -> str:
    """A question asked of oneself as the statement it hopes for ("Can I be free" -> "I
    can be free", "Am I happy" -> "I am happy", "Do I love my work" -> "I love my
    work"): it was "I enjoy can I am free", a question in the words of an affirmation."""
    m = _ASKED.match(s)
    if not m:
        return s
    verb = m.group(1).lower()
    rest = s[m.end() :]
    return f"I {rest}" if verb in ("do", "does", "did") else f"I {verb} {rest}"


def _english_rules(s: str) -> str:
    """A cleaned Latin-alphabet line phrased by the English rules."""
    out = _affirm(_expand(_told(s)))
    if not out:
        return ""
    return _shorten(_agree(_from_past(_present_tense(out))))


def _english_key(text: str) -> str:
    """The line the English rules make of `text` whatever its language: what every goal's
    lines were before lines in other languages were kept as written. `_beats` keeps and
    drops beats by it, so the scenes' moments, and so their image and motion prompts (the
    paid keyframes and clips), are what they were for goals in any language."""
    s = _clean(text)
    if not s:
        return ""
    return _english_rules(s) if _latin_script(s) else _shorten(s)


def _feelings_line(feelings: str) -> str:
    """ "powerful, alive, grateful" -> "I feel powerful, alive and grateful", by the
    English rules (`_beats` shows a line in another language as written instead)."""
    s = _first_sentence(feelings)
    if not _latin_script(s):
        return ""  # not "I feel חופשי and גאה": no line (see first_person)
    if re.match(r"^(I|we|my|our)\b", s, re.I):
        return _english_key(s)
    parts = [p.strip() for p in re.split(r",|;|\band\b|&|/", s) if p.strip()]
    parts = [re.sub(r"^(?:feeling|feel)\s+", "", p, flags=re.I) for p in parts]
    # (an item with no word, "🙏": the cards leave it out, and "alive, and grateful" was
    # shown; the text audit)
    parts = [_lower_first(p) for p in parts if any(c.isalnum() for c in p)][:4]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return _shorten(_present_tense("I feel " + joined))


_GERUND = re.compile(r"[a-z]+ing\b", re.I)

#: a piece after a comma that starts with one of these is no item of a list but a place,
#: an aside or a clause ("Austin, Texas", "Sam, my brother", "a nurse, which I love",
#: "every day, no matter what", "calm, like the ocean"): the line is left as it is
_NOT_AN_ITEM = _words(
    "a an the my our his her their your its this that these those which who whom whose "
    "where when while whenever like as although though not no never nor even especially "
    "including because since so but yet or and then than for from to in on at by of with "
    "without into onto about after before during until till over under near around "
    "between among against despite one two three four five every each all both"
)


def _and_list(line: str) -> str:
    """ "I am running, yoga on a sunlit deck" -> "I enjoy running and yoga on a sunlit
    deck"; "I run, swim, bike" -> "I run, swim and bike". A list of actions written with
    commas only (the README's own "Running, yoga on a sunlit deck") was shown as a
    sentence run on. Only a line of short items, none of which reads as a place, a date,
    an aside or a clause (`_NOT_AN_ITEM`, a capital, a digit, an -ly or -ed word), is
    joined; any other is left as it was. What is shown only: the beats' keys and moments
    (the scenes' prompts, which key paid work) are made as before."""
    if not line.startswith("I ") or ", " not in line or re.search(r"[.!?;:]", line):
        return line
    head, *rest = line.split(", ")
    if re.search(r"\b(?:and|or)\b", " ".join(rest), re.I):
        return line  # "I enjoy yoga, meditation and long walks": said already
    for piece in rest:
        words = piece.split()
        first = words[0] if words else ""
        if (
            not 1 <= len(words) <= 6
            or not first.isalpha()
            or not first.islower()
            or first in _NOT_AN_ITEM
            or first.endswith("ly")
            or (first.endswith("ed") and len(words) > 1)  # "surrounded by friends"
        ):
            return line
    out = ", ".join([head, *rest[:-1]]) + " and " + rest[-1]
    if head.startswith("I am "):
        pieces = [head[len("I am ") :], *rest]
        if _GERUND.match(pieces[0]) and not all(_GERUND.match(p) for p in pieces):
            if any(p.split()[0] in _VERBS for p in rest):
                return line  # "running 5k, swim": no list of one kind
            out = "I enjoy " + out[len("I am ") :]  # not "I am running and yoga"
    return out


def _action_items(actions: str) -> list[str]:
    """Split an actions text into single actions (one per line/semicolon/sentence)."""
    items = [a.strip(" -•*\t") for p in re.split(r"[;\n]", actions) for a in _sentences(p)]
    items = [a.rstrip(" .!?") for a in items if a.strip(" -•*\t.")]
    if len(items) == 1 and "," in items[0]:
        pieces = [p.strip() for p in re.split(r",|\band\b", items[0]) if p.strip()]
        if (
            all(len(p.split()) > 1 for p in pieces)
            and sum(p.split()[0].lower() in _VERBS for p in pieces) >= 2
        ):
            items = pieces
    return items


_CATEGORY_LINES: dict[str, tuple[str, ...]] = {
    "health": (
        "I am healthy, strong and full of energy",
        "I love moving my body every day",
        "I nourish my body with care",
    ),
    "wealth": (
        "I am financially free and secure",
        "Money flows to me with ease",
        "I give generously from abundance",
    ),
    "career": (
        "I do meaningful work I am proud of",
        "I lead with clarity and confidence",
        "My work creates real value",
    ),
    "relationships": (
        "I am surrounded by love",
        "I give and receive love freely",
        "I am present with the people I love",
    ),
    "growth": (
        "I grow wiser and calmer every day",
        "I am becoming the best version of myself",
        "I learn something new every day",
    ),
    "lifestyle": (
        "I live a life I love",
        "I have time and freedom for what matters",
        "I enjoy every moment of my days",
    ),
}
_GENERIC_LINES = (
    "I am living my vision now",
    "I have everything I need to succeed",
    "I am grateful for this moment",
)
_MOODS: dict[str, str] = {
    "health": "fresh morning air, sunrise light, vitality and ease",
    "wealth": "calm abundance, warm golden light, quiet security",
    "career": "focused confidence, a bright modern space, warm window light",
    "relationships": "warmth, closeness and laughter in soft golden light",
    "growth": "quiet wonder at dawn, an open horizon, clarity",
    "lifestyle": "freedom and ease, turquoise water and a sunset glow",
}
_SHOTS = (
    "Wide establishing shot",
    "Medium shot",
    "Intimate close-up",
    "Golden-hour shot",
    "Over-the-shoulder shot",
    "Low-angle hero shot",
)
#: camera moves; each contains a keyword LocalMotion recognises, so the animatic follows them
_CAMERA = (
    "Slow push in toward the subject",
    "Slow pan left across the scene",
    "Slow pull out revealing the whole scene",
    "Gentle drift up toward the light",
    "Slow pan right across the scene",
    "Gentle drift down onto the subject",
)


@dataclass(frozen=True)
class _Beat:
    """One scene's content before it becomes a Scene: what is said, and the specific moment
    shown (an action, a feeling) on top of the goal's vision; empty for the vision itself."""

    affirmation: str
    moment: str = ""
    #: the line the English rules make of it (`_english_key`): which beats are kept
    key: str = ""
    #: a stock line, not the person's words
    stock: bool = False


def _beats(goal: Goal, file_lines: list[str] | None = None) -> list[_Beat]:
    """Candidate beats for a goal, best first: the person's own words before generic lines.

    Which beats a goal has, and so every scene's moment (its image and motion prompts,
    the paid keyframe and clip), does not depend on the goal's language: they are kept
    and dropped by the English rules' lines (`_Beat.key`), as for every goal before lines
    in other languages were kept as written. Only what is shown depends on it: a line
    not in English as written, and in a goal not in English, the stock lines' scenes
    take turns with the goal's own lines."""
    vision = " ".join(goal.vision.split())
    # a line with no sign of its language goes by the rest of its goal ("Stark, frei"),
    # or of the file
    context = _goal_context(goal, file_lines or [])

    def said(line: str, moment: str = "") -> _Beat:
        shown = first_person(line, context)
        if _latin_script(line) and reads_english(_clean(line), context):  # (as there)
            shown = _and_list(shown)
        return _Beat(shown, moment, _english_key(line))

    out: list[_Beat] = []
    if own := given_text(goal.affirmation):
        out.append(_Beat(own, key=own))
    else:
        out.append(said(vision))
    actions = _action_items(goal.actions) if goal.actions else []
    if actions:
        out.append(said(actions[0], actions[0]))
    feelings = _first_sentence(goal.feelings).lower() if goal.feelings else ""
    if feelings:
        key = _feelings_line(feelings)
        shown = key
        written = _first_sentence(goal.feelings or "")
        # "Stark, frei.", not "I feel stark"; "¿Feliz?", not "I feel ¿feliz" (in any goal:
        # Spanish's marks are no English sentence's)
        if key and (not reads_english(written, context) or _INVERTED_MARK.search(written)):
            shown = _own_words(goal.feelings or "")
        out.append(_Beat(shown, f"a moment that feels {feelings}", key))
    out.extend(said(a, a) for a in actions[1:])
    if goal.affirmation:
        out.append(said(vision))
    # details describe scenery ("String lights in the apple tree"): good pictures, poor
    # affirmations, so they go into the image prompt only. The stock lines are English:
    # a goal written in another script has none
    if _latin_script(vision):
        lines = _CATEGORY_LINES.get(goal.category.strip().lower(), ())
        out.extend(_Beat(line, key=line, stock=True) for line in (*lines, *_GENERIC_LINES))
    seen: set[str] = set()
    uniq: list[_Beat] = []
    for i, b in enumerate(out):
        key = b.key.lower().rstrip(".!")
        verbatim = i == 0 and bool(goal.affirmation)  # the person's own line is never judged
        if b.key and key not in seen and (verbatim or " will " not in f" {key} "):
            seen.add(key)
            uniq.append(b)
    if _goal_reads_english(goal, file_lines):
        return uniq
    # a goal in another language says no English stock line: its own lines in turn
    # (one line once, however it ends: "Ich bin frei" given and "Ich bin frei." seen
    # took turns)
    by_words: dict[str, str] = {}
    for b in out:
        if not b.stock and b.affirmation:
            by_words.setdefault(b.affirmation.lower().rstrip(".!? "), b.affirmation)
    own_lines = list(by_words.values())
    if not own_lines:
        return uniq
    turn = iter(own_lines * len(uniq))
    return [replace(b, affirmation=next(turn)) if b.stock else b for b in uniq]


def snap_seconds(seconds: float, allowed: tuple[float, ...] | None) -> float:
    """Nearest allowed duration (ties go to the longer one, which never cuts a scene short)."""
    if not allowed:
        return float(seconds)
    return float(min(allowed, key=lambda a: (abs(a - seconds), -a)))


def _abs_str(p: Path) -> str:
    return str(p if p.is_absolute() else p.absolute())


class LocalPlanner:
    """Deterministic planner: scenes and affirmations straight from the person's words."""

    name = "local"
    model = "local-planner-1"

    async def plan(
        self,
        goals: Goals,
        options: PlanOptions,
        *,
        before_repair: Callable[[], Awaitable[None]] | None = None,
    ) -> Plan:
        return build_plan(goals, options)  # one free call, never a repair


def _natural_move(goal: Goal) -> int:
    """Where a goal's moves start: a hash of its own words, not its position (removing or
    adding a goal must not change the prompts, and so the paid clips, of the others).
    Its scene n's natural move is ``_CAMERA[(start + n - 1) % len(_CAMERA)]``."""
    seed = hashlib.sha256(f"{goal.category.strip().lower()}|{goal.vision}".encode()).digest()
    return int.from_bytes(seed[:4], "big") % len(_CAMERA)


def _first_moves(starts: list[int], counts: list[int]) -> list[int]:
    """Each goal's first-scene move (an index into _CAMERA), given every goal's natural
    start and scene count; the goal's later scenes keep their natural moves.

    Consecutive scenes never share a move, and an edit of one goal re-plans (and with a
    paid video model buys again) as few other clips as can be. A goal's scenes step
    through the moves, so only a goal's first scene can meet its neighbour's. It keeps its
    natural move unless that is the previous goal's natural last move; then it steps
    back (-1, -2, ...) to the first move that is none of: the previous goal's natural
    last move; the previous goal's actual move when that goal has one scene (it may have
    stepped back itself: needed when one-scene goals in a row share a natural move); its
    own second scene's; and, when it has one scene, the next goal's natural first move
    (so the next goal can compare with a natural move, known without looking further).
    Five moves to step to, at most two ruled out: one is always left.

    So a first scene's move follows its own goal, the goals either side of it, and only
    through a row of one-scene goals that all step back (each sharing the natural move
    of the one before) the goals before that. No bounded window of natural moves can do
    without that row: in a long row of one-scene goals with one natural move, the middle
    goals all see the same window, so would all take the same move, side by side. Such a
    row is rare (each goal in it matches the previous one's move, one chance in six).
    An edit of goal j changes moves only of goal j's scenes, goal j-1's first scene when
    goal j-1 has one scene, goal j+1's first scene, and the first scenes of goals after
    it while each continues such a row of one-scene goals that step back.
    """
    size = len(_CAMERA)
    firsts: list[int] = []
    for k, (start, count) in enumerate(zip(starts, counts, strict=True)):
        first = start % size
        if k > 0:
            prev_last = (starts[k - 1] + counts[k - 1] - 1) % size
            if first == prev_last:
                taken = {prev_last}
                if counts[k - 1] == 1:
                    taken.add(firsts[k - 1])
                if count > 1:
                    taken.add((start + 1) % size)
                elif k + 1 < len(starts):
                    taken.add(starts[k + 1] % size)
                first = next(
                    (first - b) % size for b in range(1, size) if (first - b) % size not in taken
                )
        firsts.append(first)
    return firsts


def build_plan(goals: Goals, options: PlanOptions) -> Plan:
    """The plan itself, synchronous and pure (same goals and options -> identical plan)."""
    seconds = snap_seconds(options.scene_seconds, options.allowed_seconds)
    person = goals.person
    subject = (given_text(person.description) if person else None) or "a person"
    person_photos = [_abs_str(p) for p in person.photos] if person else []
    style = (goals.style or "").strip() or DEFAULT_STYLE
    scenes: list[Scene] = []
    counts = [goal.scenes or max(1, options.scenes_per_goal) for goal in goals.goals]
    starts = [_natural_move(goal) for goal in goals.goals]
    firsts = _first_moves(starts, counts)
    file_lines = _file_lines(goals)
    for gi, (goal, count) in enumerate(zip(goals.goals, counts, strict=True), start=1):
        beats = _beats(goal, file_lines)
        category = goal.category.strip()
        mood = _MOODS.get(category.lower(), "uplifting, hopeful, luminous light")
        goal_photos = [_abs_str(p) for p in goal.photos]
        vision = " ".join(goal.vision.split()).rstrip(". ")
        for n in range(1, count + 1):
            beat = beats[(n - 1) % len(beats)]
            scene_id = f"{gi:02d}-{slugify(category)}-{n}"
            shot = _SHOTS[(n - 1) % len(_SHOTS)]
            parts = [f"{shot} of {subject}. Scene: {vision}"]
            if beat.moment:
                parts.append(f"The moment: {_lower_first(beat.moment, names=False)}")
            if goal.details:
                parts.append(f"Setting: {' '.join(goal.details.split()).rstrip('. ')}")
            if goal.feelings:
                parts.append(f"Expression: {_first_sentence(goal.feelings).lower()}")
            parts.append(f"Mood: {mood}")
            parts.append(f"Style: {style.rstrip('. ')}")
            parts.append("No text, no captions, no logos")
            image_prompt = ". ".join(parts) + "."
            camera = _CAMERA[firsts[gi - 1] if n == 1 else (starts[gi - 1] + n - 1) % len(_CAMERA)]
            moving = _shorten(beat.moment or vision, 110)
            motion_prompt = (
                f"{camera}. Natural, gentle movement: {_lower_first(moving, names=False)}. "
                "Smooth, steady, cinematic; no cuts."
            )
            # in the person's order: the pipeline rotates through them scene by scene
            refs = list(goal_photos or person_photos)
            scenes.append(
                Scene(
                    id=scene_id,
                    goal=gi,
                    category=category,
                    affirmation=beat.affirmation,
                    image_prompt=image_prompt,
                    motion_prompt=motion_prompt,
                    seconds=seconds,
                    reference_photos=refs,
                )
            )
    return Plan(
        title=goals.title,
        closing=given_text(goals.closing) or closing_for(goals),
        style=goals.style,
        music=str(goals.music) if goals.music else None,
        scenes=scenes,
    )
