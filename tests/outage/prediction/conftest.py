"""A small hand-built feeder the inference and the ping choice are tested on.

S =B= n0 -L- n1 =F1= a (10 customers)
             |  =F2= b (10 customers)
             +=FT= t =F3= c (10 customers)     FT: a transformer fuse with
                      =F4= d (40 customers)        two LV feeder fuses below
"""

import pytest

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, Topology
from outage.prediction.inference import Evidence, EvidenceKind

K = DeviceKind


def customers(node: str) -> tuple[str, ...]:
    return tuple(f"{node}{i}" for i in range(40 if node == "d" else 10))


@pytest.fixture(scope="module")
def feeder() -> Topology:
    links = [
        Link("B", K.BREAKER, "S", "n0"),
        Link("L", K.LINE, "n0", "n1"),
        Link("F1", K.FUSE, "n1", "a"),
        Link("F2", K.FUSE, "n1", "b"),
        Link("FT", K.FUSE, "n1", "t"),
        Link("F3", K.FUSE, "t", "c"),
        Link("F4", K.FUSE, "t", "d"),
    ]
    return Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S"}),
            accounts_at={node: customers(node) for node in "abcd"},
        )
    )


def calls(*accounts: str) -> list[Evidence]:
    return [Evidence(a, EvidenceKind.CALL) for a in accounts]
