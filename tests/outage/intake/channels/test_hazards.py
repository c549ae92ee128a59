"""Reading a hazard from a customer's words, without the database."""

import pytest

from outage.i18n import Language
from outage.intake.channels import hazards
from outage.intake.channels.hazards import NEGATED_SHARE, RULES, TEXT_MAX, Rule, classify
from outage.intake.enums import Hazard

LIKELY = 0.7
"""The default `hazard_likely_confidence`."""

WIRES, FIRE, TREE, FLOOD = (
    Hazard.WIRES_DOWN,
    Hazard.FIRE,
    Hazard.TREE_ON_LINE,
    Hazard.FLOODED_EQUIPMENT,
)


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("Dây điện đứt trước nhà số 12", WIRES),
        ("day dien dut truoc nha so 12", WIRES),
        ("DÂY ĐIỆN BỊ ĐỨT", WIRES),
        ("Đứt dây điện rồi, nguy hiểm lắm", WIRES),
        ("dut day dien", WIRES),
        ("dây rơi xuống đường", WIRES),
        ("day roi xuong duong", WIRES),
        ("dây điện chạm đất", WIRES),
        ("Cháy trạm biến áp đầu ngõ", FIRE),
        ("cột điện bốc cháy", FIRE),
        ("cot dien boc chay", FIRE),
        ("có tia lửa ở cột điện", FIRE),
        ("co tia lua o cot dien", FIRE),
        ("chập điện trong tủ", FIRE),
        ("chap dien trong tu", FIRE),
        ("nghe tiếng nổ lớn", FIRE),
        ("nghe tieng no lon", FIRE),
        ("nổ trạm", FIRE),
        ("no tram bien ap", FIRE),
        ("cây đổ vào đường dây", TREE),
        ("cay do vao duong day", TREE),
        ("tủ điện bị ngập", FLOOD),
        ("Wire down on Main Street", WIRES),
        ("the power line is down", WIRES),
        ("No power, wires down outside", WIRES),
        ("downed lines across the road", WIRES),
        ("cable on the ground near school", WIRES),
        ("pole is sparking", FIRE),
        ("Sparks from the transformer", FIRE),
        ("fire at the substation", FIRE),
        ("the pole is on fire", FIRE),
        ("smoke coming from the box", FIRE),
        ("heard an explosion", FIRE),
        ("transformer blew", FIRE),
        ("tree fell on the power line", TREE),
        ("flooded transformer", FLOOD),
        ("dây điện bị rơi", WIRES),  # an optional word's phrase at the end of the text
        ("dây điện rớt", WIRES),
        ("day dien bi roi.", WIRES),
        ("trạm biến áp bị ngập", FLOOD),
        ("công tơ bị ngập", FLOOD),  # an alternative of two words
        ("cot dien no boc chay", FIRE),  # nó: it, not a denial
        ("không biết sao dây điện bị đứt", WIRES),  # a negation of something else
        ("not sure but wires are down", WIRES),
        ("chua biet sao chap dien", FIRE),
    ],
)
def test_hazard_words_are_a_likely_hazard(text: str, hazard: Hazard) -> None:
    guess = classify(text)
    assert (guess.hazard, guess.confidence >= LIKELY) == (hazard, True)


@pytest.mark.parametrize(
    "text",
    [
        "Nhà tôi mất điện từ sáng",
        "nha toi mat dien tu sang",
        "máy bơm chạy không được",  # chạy: running, not cháy
        "nó không có điện",  # nó: it, not nổ
        "khởi động lại công tơ",  # khởi: not khói
        "cây đó che đèn đường",  # cây đó: that tree
        "tôi bị nợ tiền điện",  # nợ: debt
        "ko co dien",
        "no power since 8am",
        "lights out on the whole street",
        "firewall at the office is down",  # fire, in another word
        "the outage started at noon",
        "dien no tu mat",  # nó tự: it went out by itself, not nổ tủ
        "den no tu tat",
        "o day roi nhe",  # đây rồi: here it is, not dây rơi
        "mat dien, den day roi ma chua co",
        "may chay no on",  # chạy nó: it runs, not cháy nổ
        "I think a fuse blew",
        "phone line is down",
        "",
    ],
)
def test_ordinary_outage_words_are_no_likely_hazard(text: str) -> None:
    assert classify(text).confidence < LIKELY


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("chay", FIRE),  # "cháy" or "chạy"
        ("cay do", TREE),  # "cây đổ" or "cây đó"
        ("khoi", FIRE),  # "khói" or "khởi"
    ],
)
def test_ambiguous_words_without_accents_are_less_sure(text: str, hazard: Hazard) -> None:
    guess = classify(text)
    assert guess.hazard is hazard
    assert 0 < guess.confidence < LIKELY


def test_a_word_without_accents_that_means_nothing_else_is_sure() -> None:
    assert classify("tia lua").confidence == classify("tia lửa").confidence


@pytest.mark.parametrize(
    ("negated", "plain"),
    [
        ("không cháy, chỉ mất điện", "cháy"),
        ("khong thay day dien dut", "day dien dut"),
        ("chưa thấy tia lửa", "tia lửa"),
        ("no fire, just no power", "fire"),
        ("there are not any sparks", "sparks"),
    ],
)
def test_a_negation_before_the_words_lowers_the_confidence(negated: str, plain: str) -> None:
    guess = classify(negated)
    assert guess.hazard is classify(plain).hazard
    assert guess.confidence == pytest.approx(classify(plain).confidence * NEGATED_SHARE)


def test_a_negation_of_power_does_not_deny_the_hazard_after_it() -> None:
    assert classify("ko co dien day dut").confidence == classify("day dut").confidence


def test_a_negation_in_an_earlier_clause_does_not_count() -> None:
    assert classify("không sao. Dây điện đứt").confidence == classify("Dây điện đứt").confidence


def test_the_matching_rules_language_is_given() -> None:
    assert classify("dây điện đứt").language is Language.VI
    assert classify("wire down").language is Language.EN
    assert classify("mất điện").language is None


def test_the_surest_match_wins() -> None:
    guess = classify("smoke, then the pole caught fire and is sparking")
    assert (guess.hazard, guess.confidence) == (FIRE, 0.9)


def test_optional_words_and_alternatives_of_a_rule() -> None:
    rule = Rule("dây điện? bị? đứt|rơi", WIRES, 0.9, Language.VI)
    for text in ("dây đứt", "dây điện đứt", "dây bị rơi", "dây điện bị đứt"):
        assert classify(text, (rule,)).confidence == 0.9, text
    assert classify("dây điện bị", (rule,)).hazard is None


def test_rules_are_whole_words_only() -> None:
    rule = Rule("fire", FIRE, 0.9, Language.EN)
    assert classify("firewall fired", (rule,)).hazard is None


def test_every_rule_is_a_confidence_between_0_and_1() -> None:
    for rule in RULES:
        assert 0 < rule.confidence <= 1, rule
        assert rule.bare_confidence is None or 0 <= rule.bare_confidence <= rule.confidence


def test_every_rules_first_word_is_required() -> None:
    for rule in RULES:
        assert not rule.words[0][1], rule


def test_a_long_text_is_read_with_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first TEXT_MAX characters, each match looking back a few words only."""
    looked_back: list[int] = []
    negated = hazards._negated

    def counting(before: str, negations: frozenset[str]) -> bool:
        looked_back.append(len(before))
        return negated(before, negations)

    monkeypatch.setattr(hazards, "_negated", counting)
    classify("khong chay " * 50_000)
    assert len(looked_back) <= TEXT_MAX // len("khong chay ") + 1
    assert max(looked_back) <= hazards.LOOKBACK_CHARS
