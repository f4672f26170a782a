"""Reading age: offline scoring, cleaning of social text, and UK/US spelling parity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.readability import count_syllables, reading_age, scoring_text, sentences, split_camel_case

UK_US = [("colour", "color"), ("programme", "program"), ("organisation", "organization"),
         ("behaviour", "behavior"), ("centre", "center"), ("theatre", "theater"),
         ("favourite", "favorite"), ("recognise", "recognize"), ("analyse", "analyze"),
         ("catalogue", "catalog"), ("travelled", "traveled"), ("ageing", "aging"),
         ("judgement", "judgment"), ("metres", "meters"), ("neighbour", "neighbor"),
         ("colourful", "colorful"), ("programmes", "programs"), ("organisations", "organizations"),
         ("behaviours", "behaviors"), ("centres", "centers"), ("licence", "license")]


@pytest.mark.parametrize(("uk", "us"), UK_US)
def test_uk_spellings_count_like_us(uk, us):
    assert count_syllables(uk) == count_syllables(us)


@pytest.mark.parametrize(("word", "n"), [
    ("colour", 2), ("programme", 2), ("organisation", 5), ("behaviour", 3), ("centre", 2),
    ("the", 1), ("people", 2), ("children", 2), ("safeguarding", 3), ("exploitation", 4),
    ("worried", 2), ("someone", 2), ("video", 3), ("going", 2), ("lives", 1), ("houses", 2),
    ("table", 2), ("wanted", 2), ("looked", 1), ("awareness", 3), ("loneliness", 3),
    ("experience", 4), ("quiet", 2), ("social", 2), ("media", 3), ("Wolverhampton", 4),
    ("01902", 1),
])
def test_syllable_examples(word, n):
    assert count_syllables(word) == n


_stem = st.text("bcdfghjklmnpqrstvwxz" + "aeiou", min_size=1, max_size=8).filter(
    lambda s: s[-1] not in "aeiouy")


@settings(max_examples=300, deadline=None)
@given(_stem, st.sampled_from([("our", "or"), ("ours", "ors"), ("re", "er"), ("res", "ers"),
                               ("ise", "ize"), ("isation", "ization"), ("yse", "yze"),
                               ("amme", "am"), ("ammes", "ams"), ("ogue", "og")]))
def test_uk_us_parity_property(stem, pair):
    uk, us = pair
    assert count_syllables(stem + uk) == count_syllables(stem + us)


def test_uk_and_us_texts_score_the_same():
    uk = "The organisation's programme helps the centre recognise harmful behaviour and colour."
    us = "The organization's program helps the center recognize harmful behavior and color."
    assert reading_age(uk) == reading_age(us)


def test_split_camel_case():
    assert split_camel_case("#SaferInternetDay") == "Safer Internet Day"
    assert split_camel_case("#NoExcuse") == "No Excuse"
    assert split_camel_case("#COVID19Help") == "COVID 19 Help"
    assert split_camel_case("#saferinternetday") == "saferinternetday"


def test_scoring_text_removes_urls_mentions_emoji():
    text = ("Hi @wst 😷👨\u200d👩\u200d👧 see https://www.wolverhamptonsafeguarding.org.uk/a?b=c "
            "and www.example.org.uk #SaferInternetDay ❤️")
    assert scoring_text(text) == "Hi see and Safer Internet Day"


def test_sentences_split_at_stops_and_lines_not_abbreviations():
    assert list(sentences("Call us, e.g. today. Then rest!\nNext line\n\n")) == [
        "Call us, e.g. today.", "Then rest!", "Next line"]


def test_reading_age_is_grade_plus_five_with_counts():
    r = reading_age("The cat sat on the mat. The dog ran.")
    # 9 one-syllable words in 2 sentences: FK = 0.39 * 4.5 + 11.8 * 1 - 15.59
    assert (r.words, r.sentences, r.syllables) == (9, 2, 9)
    assert r.grade == round(0.39 * 4.5 + 11.8 - 15.59, 1)
    assert r.reading_age == round(r.grade + 5, 1)
    assert "2 sentences, 9 words" in r.describe()


def test_reading_age_ignores_links_and_splits_hashtags():
    plain = reading_age("Talk to your child today. Safer Internet Day")
    social = reading_age("Talk to your child today. 😷 https://example.org/x\n#SaferInternetDay")
    assert plain == social


def test_harder_text_scores_higher_and_empty_is_zero():
    easy = reading_age("Talk to your child. Ask who they chat to. Call us if you are worried.")
    hard = reading_age("Multi-agency safeguarding arrangements necessitate comprehensive "
                       "interdisciplinary collaboration regarding exploitation vulnerabilities.")
    assert easy.reading_age < 9 < hard.reading_age
    assert reading_age("😷 https://example.org").words == 0
