"""Telling a hazard from a customer's own words, in Vietnamese or English (pure: no database).

Channels where the customer cannot tick "wires down" (SMS, e-mail) classify the text
they send. Each rule of `RULES` is a phrase with the confidence that it means a hazard:
its words are separated by spaces, a word may list alternatives ("wire|wires") and a
trailing "?" makes it optional ("dây điện? bị? đứt"). Phrases are matched on
accent-folded text, whole words only, so "day dien dut" matches "dây điện đứt". A word
typed with accents must be the rule's own ("chạy", running, is not "cháy", fire); a word
typed without them may be another word, so an ambiguous rule gives a lower
`bare_confidence` then. A negation just before the phrase ("không cháy", "no fire") cuts
the confidence to `NEGATED_SHARE` of it. The best match wins.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from outage.i18n import Language
from outage.intake.channels.common import fold, nfc
from outage.intake.enums import Hazard

NEGATED_SHARE = 0.3
"""What is left of a rule's confidence when a negation comes just before its phrase."""

NEGATION_REACH = 3
"""How many words before a phrase a negation is looked for ("không thấy có cháy")."""

NEGATIONS = frozenset(
    {"không", "khong", "ko", "k", "kg", "hông", "hong", "chưa", "chua"}
    | {"no", "not", "never", "without", "isn't", "isnt", "aren't", "arent", "nothing"}
)
"""Words that deny what follows, as typed (with accents or without)."""

POWER_WORDS = frozenset({"dien", "den", "power", "electricity", "light", "lights"})
"""Accent-folded words a negation before a phrase may be about instead ("no power, wires
down", "không có điện dây đứt"): a negation counts only after the last of them."""


@dataclass(frozen=True)
class Rule:
    phrase: str
    hazard: Hazard
    confidence: float
    language: Language
    bare_confidence: float | None = None
    """The confidence when a word the rule spells with accents came without them; None:
    the same as `confidence` (the folded phrase means nothing else)."""

    @cached_property
    def words(self) -> tuple[tuple[tuple[str, ...], bool], ...]:
        """Each word's alternatives (lower case, as written) and whether it is optional."""
        return tuple(
            (tuple(nfc(word.rstrip("?")).lower().split("|")), word.endswith("?"))
            for word in self.phrase.split()
        )

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for alternatives, optional in self.words:
            word = "(?:" + "|".join(re.escape(fold(a)) for a in alternatives) + ")"
            parts.append(f"(?:{word}\\s+)?" if optional else f"{word}\\s+")
        return re.compile(r"\b" + "".join(parts).removesuffix("\\s+") + r"\b")

    @cached_property
    def spellings(self) -> frozenset[str]:
        return frozenset(a for alternatives, _ in self.words for a in alternatives)


V, E = Language.VI, Language.EN
WIRES, FIRE, TREE, FLOOD = (
    Hazard.WIRES_DOWN,
    Hazard.FIRE,
    Hazard.TREE_ON_LINE,
    Hazard.FLOODED_EQUIPMENT,
)

RULES: tuple[Rule, ...] = (
    # Vietnamese: wires down
    Rule("dây điện? bị? đứt", WIRES, 0.9, V),
    Rule("đứt dây", WIRES, 0.9, V),
    Rule("dây điện bị? rơi|rớt|sà|chạm đất?", WIRES, 0.85, V),
    Rule("dây bị? rơi|rớt|sà|chạm đất?", WIRES, 0.85, V, bare_confidence=0.5),  # "đây rồi"
    Rule("dây rơi|rớt xuống", WIRES, 0.85, V),
    Rule("dây điện? bị? võng xuống", WIRES, 0.8, V),
    # Vietnamese: fire, sparks, explosions
    Rule("cháy", FIRE, 0.9, V, bare_confidence=0.5),  # "chay" may be "chạy", running
    Rule("bốc|bắt cháy", FIRE, 0.95, V),
    Rule("cháy nổ", FIRE, 0.95, V, bare_confidence=0.5),  # "chay no": "chạy nó"
    Rule("chập|chạm điện|cháy", FIRE, 0.85, V),
    Rule("tia|tóe|toé|bắn lửa", FIRE, 0.9, V),
    Rule("xẹt điện|lửa", FIRE, 0.85, V),
    Rule("nổ", FIRE, 0.85, V, bare_confidence=0.0),  # "no": "no", "nó", "nợ"
    Rule("phát|tiếng nổ", FIRE, 0.9, V, bare_confidence=0.8),
    Rule("nổ trạm|biến", FIRE, 0.9, V, bare_confidence=0.8),
    Rule("nổ tủ", FIRE, 0.9, V, bare_confidence=0.5),  # "no tu": "nó tự"
    Rule("bốc khói", FIRE, 0.85, V),
    Rule("khói", FIRE, 0.7, V, bare_confidence=0.3),  # "khoi": "khởi", "khối"
    # Vietnamese: trees, water
    Rule("cây đổ|ngã|gãy|đè", TREE, 0.85, V, bare_confidence=0.6),  # "cay do": "cây đó"
    Rule("cây đổ|ngã|đè vào|lên dây|đường", TREE, 0.9, V),
    Rule("trạm|tủ|công tơ|tơ|điện biến? áp? bị? ngập", FLOOD, 0.8, V),
    # English
    Rule("wire|wires|cable|cables is|are? down", WIRES, 0.9, E),
    Rule("power|electric|electrical line|lines is|are? down", WIRES, 0.9, E),  # not a phone's
    Rule("downed|fallen|broken|snapped wire|wires|line|lines|cable|cables", WIRES, 0.85, E),
    Rule("wire|wires|line|lines|cable|cables on the? ground|road|street", WIRES, 0.9, E),
    Rule("fire|fires|flames|burning", FIRE, 0.85, E),
    Rule("on fire", FIRE, 0.95, E),
    Rule("spark|sparks|sparking|arcing", FIRE, 0.9, E),
    Rule("smoke", FIRE, 0.7, E),
    Rule("explosion|exploded|explodes|explode", FIRE, 0.9, E),
    Rule("transformer|pole blew|blown", FIRE, 0.8, E),  # not a fuse: that is an outage
    Rule("short circuit", FIRE, 0.75, E),
    Rule(
        "tree|branch fell|fallen|is|lying? on|onto|across the? power? line|lines|wire|wires",
        TREE,
        0.85,
        E,
    ),
    Rule("fallen|downed tree", TREE, 0.75, E),
    Rule("flooded transformer|substation|meter|box|cabinet", FLOOD, 0.8, E),
    Rule("transformer|substation|meter|cabinet is? flooded|underwater", FLOOD, 0.8, E),
)


@dataclass(frozen=True)
class Guess:
    """What the text is most likely about: a hazard (or None) and how sure we are."""

    hazard: Hazard | None
    confidence: float
    language: Language | None
    """The language of the phrase that matched, for a reply when we know no better."""


NOTHING = Guess(None, 0.0, None)


def classify(text: str, rules: tuple[Rule, ...] = RULES) -> Guess:
    """The hazard the text most likely tells of; `NOTHING` when no rule matches."""
    original = nfc(text).lower()
    folded = fold(original)
    best = NOTHING
    for rule in rules:
        for confidence in _matches(rule, original, folded):
            if confidence > best.confidence:
                best = Guess(rule.hazard, confidence, rule.language)
    return best


def _matches(rule: Rule, original: str, folded: str) -> Iterator[float]:
    for found in rule.pattern.finditer(folded):
        words = original[found.start() : found.end()].split()
        if any(w != fold(w) and w not in rule.spellings for w in words):
            continue  # written with accents, and another word than the rule's
        bare = any(w == fold(w) and w not in rule.spellings for w in words)
        confidence = rule.confidence
        if bare and rule.bare_confidence is not None:
            confidence = rule.bare_confidence
        if _negated(original[: found.start()]):
            confidence *= NEGATED_SHARE
        if confidence > 0:
            yield confidence


def _negated(before: str) -> bool:
    """A negation among the last words of the clause before a phrase, and after any word
    about power ("no power" is an outage, not a denial of what follows)."""
    clause = re.split(r"[,.;:!?\n]", before)[-1]
    words = [w.strip("\"'()") for w in clause.split()][-NEGATION_REACH:]
    for at in range(len(words) - 1, -1, -1):
        if fold(words[at]) in POWER_WORDS:
            words = words[at + 1 :]
            break
    return any(w in NEGATIONS for w in words)
