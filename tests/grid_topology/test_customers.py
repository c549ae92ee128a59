import random
import re
import unicodedata
from collections import Counter, defaultdict

import phonenumbers
import pytest

from grid_topology.customers import LoadPoint, synthesize_customers
from grid_topology.model import Premise

HANOI = (105.8542, 21.0285)


def grid_loads(lv_grids: int = 3, per_grid: int = 12, mv_loads: int = 8) -> list[LoadPoint]:
    """Loads named like SimBench's: a few LV grids of households and one MV feeder."""
    loads = [
        LoadPoint(
            f"LV1.10{g} Load {i}",
            f"LV1.10{g} Bus {i}",
            (HANOI[0] + g * 0.01 + i * 1e-4, HANOI[1]),
            f"LV1.10{g}",
            0.4,
        )
        for g in range(1, lv_grids + 1)
        for i in range(1, per_grid + 1)
    ]
    loads += [
        LoadPoint(f"MV1.101 Load {i}", f"MV1.101 Bus {i}", HANOI, "MV1.101", 20.0)
        for i in range(1, mv_loads + 1)
    ]
    return loads


def many_loads(count: int, per_grid: int = 40) -> list[LoadPoint]:
    return [
        LoadPoint(f"Load {i}", f"Bus {i}", HANOI, f"LV {i // per_grid}", 0.4) for i in range(count)
    ]


def by_account(premises: list[Premise]) -> dict[str, Premise]:
    return {premise.customer.account: premise for premise in premises}


def test_same_input_and_seed_give_the_same_customers() -> None:
    assert synthesize_customers(grid_loads(), seed=7) == synthesize_customers(grid_loads(), seed=7)


def test_another_seed_gives_other_customers() -> None:
    first = synthesize_customers(grid_loads(), seed=1)
    second = synthesize_customers(grid_loads(), seed=2)
    assert [p.customer.name for p in first] != [p.customer.name for p in second]
    assert [p.customer.phone for p in first] != [p.customer.phone for p in second]


def test_input_order_does_not_matter() -> None:
    loads = grid_loads()
    shuffled = loads[:]
    random.Random(3).shuffle(shuffled)
    assert synthesize_customers(shuffled) == synthesize_customers(loads)


def test_output_is_in_natural_order_of_load_names() -> None:
    names = [p.customer.account for p in synthesize_customers(grid_loads(lv_grids=1))]
    assert names[:3] == ["LV1.101 Load 1", "LV1.101 Load 2", "LV1.101 Load 3"]
    assert names.index("LV1.101 Load 9") < names.index("LV1.101 Load 10")


def test_a_customer_does_not_change_when_another_group_is_added() -> None:
    before = by_account(synthesize_customers(grid_loads(lv_grids=2)))
    after = by_account(synthesize_customers(grid_loads(lv_grids=3)))
    for account, premise in before.items():
        assert after[account] == premise


def test_one_premise_per_load_keeping_its_name_node_and_location() -> None:
    loads = grid_loads()
    premises = by_account(synthesize_customers(loads))
    assert len(premises) == len(loads)
    for load in loads:
        premise = premises[load.name]
        assert premise.ref == f"P-{load.name}"
        assert premise.node == load.node
        assert premise.location == load.location


def test_repeated_load_names_are_refused() -> None:
    loads = grid_loads()
    with pytest.raises(ValueError, match=re.escape("LV1.101 Load 1")):
        synthesize_customers([*loads, loads[0]])


def test_phones_are_unique_valid_vietnamese_mobiles() -> None:
    premises = synthesize_customers(many_loads(3000))
    phones = [p.customer.phone for p in premises]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert re.fullmatch(r"\+84[35789]\d{8}", phone)
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == "VN"
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone


def test_addresses_and_emails_are_unique() -> None:
    premises = synthesize_customers(many_loads(3000, per_grid=25))
    addresses = [p.address for p in premises]
    assert len(set(addresses)) == len(addresses)
    emails = [p.customer.email for p in premises if p.customer.email]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert re.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)", email)


def test_names_are_vietnamese_with_diacritics() -> None:
    households = [p.customer.name for p in synthesize_customers(many_loads(500))]
    for name in households:
        assert unicodedata.normalize("NFC", name) == name
        assert len(name.split()) == 3
    assert sum(not name.isascii() for name in households) > 0.9 * len(households)
    assert Counter(name.split()[0] for name in households).most_common(1)[0][0] == "Nguyễn"


def test_an_address_is_a_vietnamese_street_address() -> None:
    for premise in synthesize_customers(grid_loads()):
        assert re.fullmatch(r"\d+ [^,]+, Phường [^,]+, Quận [^,]+, Hà Nội", premise.address)


def test_one_street_per_group_with_house_numbers_rising_in_load_name_order() -> None:
    streets: dict[str, set[str]] = defaultdict(set)
    numbers: dict[str, list[int]] = defaultdict(list)
    for premise in synthesize_customers(grid_loads(per_grid=30)):
        group = premise.customer.account.split()[0]
        number, street = premise.address.split(" ", 1)
        streets[group].add(street)
        numbers[group].append(int(number))
    assert all(len(group_streets) == 1 for group_streets in streets.values())
    assert len(set.union(*streets.values())) == len(streets)
    for group_numbers in numbers.values():
        assert group_numbers == sorted(set(group_numbers))


def test_the_city_follows_the_location() -> None:
    load = LoadPoint("Load 1", "Bus 1", (106.70, 10.78), "LV 1", 0.4)
    [premise] = synthesize_customers([load])
    assert premise.address.endswith(", Thành phố Hồ Chí Minh")


def test_medium_voltage_loads_are_businesses_some_of_them_critical() -> None:
    loads = [
        LoadPoint(f"MV Load {i}", f"Bus {i}", HANOI, f"MV {i // 50}", 22.0) for i in range(400)
    ]
    customers = [p.customer for p in synthesize_customers(loads)]
    prefixes = (
        "Công ty",
        "Nhà máy",
        "Khách sạn",
        "Siêu thị",
        "Chợ",
        "Trường",
        "Tòa nhà",
        "Bệnh viện",
        "Trạm bơm nước",
    )
    assert all(c.name.startswith(prefixes) for c in customers)
    critical = Counter(c.critical for c in customers)
    assert set(critical) == {None, "hospital", "water_pumping"}
    assert 0.05 < (critical["hospital"] + critical["water_pumping"]) / len(customers) < 0.3
    for customer in customers:
        is_hospital = customer.name.startswith("Bệnh viện")
        assert (customer.critical == "hospital") == is_hospital


def test_shares_of_email_language_and_life_support() -> None:
    customers = [p.customer for p in synthesize_customers(many_loads(6000))]
    count = len(customers)
    assert 0.55 < sum(c.email is not None for c in customers) / count < 0.65
    languages = Counter(c.language for c in customers)
    assert set(languages) == {"vi", "en"}
    assert 0.07 < languages["en"] / count < 0.13
    assert {c.critical for c in customers} == {None, "life_support"}
    assert 0.002 < sum(c.critical == "life_support" for c in customers) / count < 0.01
