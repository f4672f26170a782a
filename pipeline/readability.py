"""Reading age on GOV.UK's measure, computed offline, with UK spellings scored like US ones."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

from renderers.text import find_emoji, find_hashtags, find_urls

_MENTION = regex.compile(r"(?<![\w@])@\w+(?:@[\w.-]+\w)?")
# Split a CamelCase tag into words: "SaferInternetDay" -> Safer Internet Day, "COVID19" -> COVID 19.
_CAMEL_PART = regex.compile(r"\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+")
# What is left of emoji after twitter-text's table: stray selectors, joiners, skin tones, symbols.
_EMOJI_LEFTOVERS = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\u200d\ufe0f\ufe0e\u20e3]")
_WORD = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}]+)*")
# A sentence ends at . ! ? … followed by space or the end, or at a line break (social copy puts
# the call to action, the number and the hashtags on lines of their own, without full stops).
_SENTENCE_END = regex.compile(r"(?<=[.!?…])[\"'’”)\]]*\s+|\s*\n\s*")
# Full stops that do not end a sentence.
_ABBREVIATIONS = regex.compile(r"\b(?:e\.g|i\.e|etc|Dr|Mr|Mrs|Ms|St|No|approx|incl)\.", regex.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Readability:
    """A text's reading age and the counts behind it (one-sentence scores are rough)."""

    reading_age: float   # Flesch–Kincaid grade + 5, one decimal
    grade: float         # Flesch–Kincaid grade level, one decimal
    sentences: int
    words: int
    syllables: int

    def describe(self) -> str:
        """The figure and what it was computed from, for a warning."""
        sentences = "1 sentence" if self.sentences == 1 else f"{self.sentences} sentences"
        return f"reading age {self.reading_age:.1f} ({sentences}, {self.words} words)"


def split_camel_case(tag: str) -> str:
    """'#SaferInternetDay' -> 'Safer Internet Day' (an all-lower-case tag stays one word)."""
    return " ".join(_CAMEL_PART.findall(tag.lstrip("#"))) or tag.lstrip("#")


def _replace_spans(text: str, spans, make) -> str:
    out, last = [], 0
    for s in spans:
        out.append(text[last:s.start])
        out.append(make(s.text))
        last = s.end
    out.append(text[last:])
    return "".join(out)


@lru_cache(maxsize=64)
def scoring_text(text: str) -> str:
    """The words a reader reads: no URLs, @mentions or emoji; CamelCase hashtags split into words."""
    # cached: the reading, sentence and identifying rules each ask for the same block in turn
    text = _replace_spans(text, find_urls(text), lambda _: " ")
    text = _MENTION.sub(" ", text)
    text = _replace_spans(text, find_emoji(text), lambda _: " ")
    text = _EMOJI_LEFTOVERS.sub(" ", text)
    text = _replace_spans(text, find_hashtags(text), split_camel_case)
    return regex.sub(r"[ \t]+", " ", text).strip()


@lru_cache(maxsize=64)
def sentences(text: str) -> tuple[str, ...]:
    """Sentences of already-cleaned text: split at . ! ? … and at line breaks."""
    # cached, as scoring_text is: four rules split the same block in turn
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0)[:-1] + "\u2024", text)  # one-dot leader
    parts = (s.replace("\u2024", ".").strip() for s in _SENTENCE_END.split(protected))
    return tuple(s for s in parts if _WORD.search(s))


def words(text: str) -> list[str]:
    """Words (runs of letters or digits; "don't" is one word, "14-year-old" three)."""
    return _WORD.findall(text)


# --- syllables -----------------------------------------------------------------------------------
# A rule-based counter rather than a dictionary: nothing to download, and rules can be made to treat
# UK and US spellings alike by construction. Hyphenation dictionaries (pyphen) were tried and count
# hyphenation points, not syllables: en_GB gives centre 1 but center 2, people 1, every 1.

# UK -> US endings that change letters a rule looks at. -ise/-isation need nothing: s and z are
# counted alike (z is read as s below). ae/oe (paediatric, foetus) are one vowel group like e.
_UK_TO_US = (
    # ou and o are one vowel group either way, so this changes no count except to make
    # colour/color and behaviour/behavior the same string.
    (regex.compile(r"our"), "or"),
    (regex.compile(r"(?<=[^aeiouy])re(?=s?$|d$)"), "er"),         # centre(s), theatre, metre, centred
    (regex.compile(r"mme(?=s?$)"), "m"),                          # programme(s)
    (regex.compile(r"ogue(?=s?$)"), "og"),                        # catalogue, dialogue
    (regex.compile(r"(?<=g)eing$"), "ing"),                       # ageing
)

_EXCEPTIONS = {
    "people": 2, "business": 2, "one": 1, "once": 1, "every": 2, "everyone": 3, "safety": 2,
    "someone": 2, "anyone": 3, "maybe": 2, "recipe": 3, "area": 3, "idea": 3, "police": 2,
    "forum": 2, "vehicle": 3, "wednesday": 2, "sometimes": 2, "whatsapp": 2,
}
# Word beginnings that are whole words in compounds, so their silent e stays silent.
_COMPOUND_HEADS = ("some", "any", "every", "safe", "care", "home", "life", "where", "there", "time",
                   "whole", "house", "more", "fire", "base", "like", "wide", "side", "face", "store")
_SUFFIXES = (("ness", 1, 3), ("ment", 1, 4), ("ful", 1, 3), ("less", 1, 4), ("ly", 1, 3), ("li", 1, 3))
_GROUPS = regex.compile(r"[aeiouy]+")
_SPLITS = (
    regex.compile(r"(?<![cgst])ia"),               # me-di-a, tri-vi-al (not so-cial, ini-tial)
    regex.compile(r"(?<![cgstx])io(?!n)(?!rs?$)"),   # ra-di-o, pe-ri-od, se-ri-ous (not na-tion)
    regex.compile(r"(?<![gp])eo"),                 # vid-e-o, the-o-ry
    regex.compile(r"(?<![gq])ua"),                 # ac-tu-al (not guard, equal)
    regex.compile(r"iu"),                          # me-di-um
    regex.compile(r"(?<![tc])ie(?=nce|nt|t$|ty)"), # ex-pe-ri-ence, cli-ent, qui-et
    regex.compile(r"ea(?=te)|(?<=th)ea(?=t)"),     # cre-ate, the-a-ter (not great, treat)
    regex.compile(r"(?<=[aeiouy])ing"),            # go-ing, be-ing, see-ing
)


def uk_to_us(word: str) -> str:
    """The US spelling of the endings that matter for counting (colour -> color, centre -> center)."""
    for pattern, repl in _UK_TO_US:
        word = pattern.sub(repl, word)
    return word


def _core(w: str) -> int:
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w]
    if len(w) <= 3:
        return 1
    for suffix, n, min_stem in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= min_stem:
            return _core(w[:-len(suffix)]) + n
    for head in _COMPOUND_HEADS:
        if w.startswith(head) and len(w) - len(head) >= 3 and w != head:
            return _core(head) + _core(w[len(head):])
    body = w[1:] if w[0] == "y" else w          # y starts a word as a consonant (young, year)
    body = body.replace("qu", "qw")             # u after q is not a vowel (quiet, question)
    n = len(_GROUPS.findall(body))
    if regex.search(r"[^aeiouy]e$", w) and not regex.search(r"[^aeiouyl]le$", w):
        n -= 1                                  # silent final e (make), but ta-ble, peo-ple
    elif regex.search(r"[^aeiouysxzcgh]es$", w) and not regex.search(r"[^aeiouyl]les$", w):
        n -= 1                                  # lives, times; but hous-es, chang-es, ta-bles
    elif regex.search(r"[^aeiouytd]ed$", w) and not regex.search(r"[^aeiouyl]led$", w):
        n -= 1                                  # walked, travelled; but want-ed, trou-bled
    n += sum(len(p.findall(body)) for p in _SPLITS)
    return max(n, 1)


@lru_cache(maxsize=8192)
def count_syllables(word: str) -> int:
    """Syllables in one word, by rule (no dictionary download); UK and US spellings count alike."""
    letters = regex.sub(r"[^a-z]", "", word.lower().replace("z", "s"))
    if not letters:
        return 1  # a number is read as a short word: official numbers must not raise the score
    return _core(uk_to_us(letters))


def reading_age(text: str) -> Readability:
    """Reading age = Flesch–Kincaid grade + 5 (GOV.UK's measure), on the text a reader reads."""
    clean = scoring_text(text)
    parts = sentences(clean)
    counted = [w for s in parts for w in words(s)]
    if not counted:
        return Readability(0.0, 0.0, 0, 0, 0)
    syllables = sum(count_syllables(w) for w in counted)
    n_words, n_sentences = len(counted), len(parts)
    grade = 0.39 * n_words / n_sentences + 11.8 * syllables / n_words - 15.59
    return Readability(round(grade + 5, 1), round(grade, 1), n_sentences, n_words, syllables)
