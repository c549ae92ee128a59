"""Telling a hazard from a customer's own words, in Vietnamese or English (pure: no database).

Channels where the customer cannot tick "wires down" (SMS, e-mail) classify the text
they send. Each rule of `RULES` is a phrase with the confidence that it means a hazard:
its words are separated by spaces, a word may list alternatives ("wire|wires"), an
alternative of several words joins them with "_" ("công_tơ"), and a trailing "?" makes a
word optional ("dây điện? bị? đứt"; never the first). Phrases are matched on
accent-folded text, whole words only, so "day dien dut" matches "dây điện đứt". A word
typed with accents must be the rule's own ("chạy", running, is not "cháy", fire); a word
typed without them may be another word, so an ambiguous rule gives a lower
`bare_confidence` then. A negation of the rule's language right before the phrase, or
before a verb such as "thấy"/"see" right before it ("không cháy", "không thấy có cháy",
"no fire"), cuts the confidence to `NEGATED_SHARE` of it; "không biết sao dây điện bị
đứt" (no idea why the wires broke) denies nothing. Only the first `TEXT_MAX` characters
are read, so a long e-mail costs no more than a short one. The best match wins.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from outage.i18n import Language
from outage.intake.channels.common import DESCRIPTION_MAX, fold, nfc
from outage.intake.enums import Hazard

NEGATED_SHARE = 0.3
"""What is left of a rule's confidence when a negation comes just before its phrase."""

TEXT_MAX = DESCRIPTION_MAX
"""How much of a text is read: as much as a report's description keeps."""

NEGATION_REACH = 3
"""How many words before a phrase a negation is looked for ("không thấy có cháy")."""

LOOKBACK_CHARS = 80
"""How far before a phrase its negation is looked for: a few words, never the whole text."""

NEGATIONS: dict[Language, frozenset[str]] = {
    Language.VI: frozenset({"khong", "ko", "k", "kg", "hong", "chua"}),
    Language.EN: frozenset(
        {"no", "not", "never", "without", "isn't", "isnt", "aren't", "arent", "nothing"}
    ),
}
"""Accent-folded words that deny what follows, per language: a Vietnamese "no" is "nó"
(it), not a denial."""

BRIDGES = frozenset({"thay", "co", "bi", "see", "seen", "saw", "any", "a", "the", "sign", "of"})
"""Accent-folded words that may stand between a negation and what it denies ("không thấy
có cháy", "no sign of fire"); any other word ends the look back ("không biết sao")."""


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
        """Each word's alternatives (lower case, as written, each one or more words) and
        whether it is optional."""
        return tuple(
            (tuple(nfc(word.rstrip("?")).lower().replace("_", " ").split("|")), word.endswith("?"))
            for word in self.phrase.split()
        )

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts: list[str] = []
        for alternatives, optional in self.words:
            spelled = ("\\s+".join(re.escape(fold(w)) for w in a.split()) for a in alternatives)
            word = "(?:" + "|".join(spelled) + ")"
            if not parts:
                parts.append(word)
            else:
                parts.append(f"(?:\\s+{word})?" if optional else f"\\s+{word}")
        return re.compile(r"\b" + "".join(parts) + r"\b")

    @cached_property
    def spellings(self) -> frozenset[str]:
        """Every word the rule spells, one by one."""
        return frozenset(
            w for alternatives, _ in self.words for a in alternatives for w in a.split()
        )


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
    Rule("trạm|tủ|công_tơ điện? biến? áp? bị? ngập", FLOOD, 0.8, V),
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
    original = nfc(text[:TEXT_MAX]).lower()
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
        before = original[max(0, found.start() - LOOKBACK_CHARS) : found.start()]
        if _negated(before, NEGATIONS[rule.language]):
            confidence *= NEGATED_SHARE
        if confidence > 0:
            yield confidence


def _negated(before: str, negations: frozenset[str]) -> bool:
    """A negation right before a phrase, or before the verbs and articles between them,
    in the same clause ("no power, wires down" denies nothing)."""
    clause = re.split(r"[,.;:!?\n]", before)[-1]
    words = [fold(w.strip("\"'()")) for w in clause.split()][-NEGATION_REACH:]
    for word in reversed(words):
        if word in negations:
            return True
        if word not in BRIDGES:
            return False
    return False
