"""Which protective devices have operated, given who is out: a pure, testable inference.

The model: a fault at a protective device takes out every customer downstream of it.
Each customer out calls with probability p (their smart meter's last gasp reaches us with
probability g); customers who are not out call anyway with a small probability q (noise).
Relative to "nothing is out", putting a set of devices out scores, in log-likelihood,

    for each customer out:  log(p/q) if they called, log(g/g0) for a last gasp,
                            log(eps) if their meter says they are live,
                            log((1-p)/(1-q)) if we heard nothing,
    minus a prior cost per fault that depends on the device kind.

Because faults under a faulted device add nothing, the best set is an antichain of the
protective tree, and its score is the sum of each device's own value v(D). The best
antichain is found exactly by one pass over the tree (best(D) = max(v(D), sum of best over
its children)), which is the roll-up of the commercial engines: two calls on one LV
feeder name its fuse, calls from several transformers name their common upstream device
once their number outweighs the customers who stayed silent. A call no device explains
is a single-service outage. The call rate p is re-estimated from the evidence.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology


class EvidenceKind(StrEnum):
    CALL = "call"
    """A customer's report: they are probably out."""
    LAST_GASP = "last_gasp"
    """A smart meter lost power: strong evidence."""
    LIVE = "live"
    """A meter answered a ping or reported power restored: this customer is NOT out."""


@dataclass(frozen=True)
class Evidence:
    account: str
    kind: EvidenceKind


OUT_KINDS = frozenset({EvidenceKind.CALL, EvidenceKind.LAST_GASP})
"""Evidence that a customer is without supply."""

SERVICE = "service"
"""Pseudo device kind: a fault on one customer's own service drop or meter."""


@dataclass(frozen=True)
class Params:
    """Tunable knobs, documented in docs/prediction.md."""

    call_rate: float = 0.15
    """Prior share of affected customers who call; re-estimated from the evidence."""
    call_rate_weight: float = 40.0
    """How many customers' worth of belief the prior call rate carries."""
    noise_rate: float = 0.0005
    """Share of customers NOT out who call anyway."""
    last_gasp_rate: float = 0.9
    """Share of affected smart meters whose last gasp reaches us."""
    false_last_gasp_rate: float = 0.001
    live_error_rate: float = 1e-6
    """Chance that a meter reports live although it is out."""
    fault_cost: Mapping[str, float] = field(
        default_factory=lambda: {
            DeviceKind.BREAKER: 5.0,
            DeviceKind.RECLOSER: 4.5,
            DeviceKind.FUSE: 4.0,
        }
    )
    """Log-odds penalty for one more fault, per protective kind: rarer faults cost more."""
    default_fault_cost: float = 4.0
    inside_premise_odds: float = 0.0
    """Log-odds that a lone caller's fault is inside their premise (their meter is live)
    rather than on their service: with a meter to ask, this is what a ping settles."""
    service_confidence_cap: float = 0.8
    """A lone call could still be noise: never more sure than this of a single service."""


@dataclass(frozen=True)
class Prediction:
    device: str
    """asset_ref of the protective device, or the account for a single-service outage."""
    kind: str
    accounts: frozenset[str]
    """Customers out, from the topology (not only those who called)."""
    evidence: frozenset[str]
    """Accounts whose evidence supports this prediction."""
    confidence: float
    """0..1: how much better this explains the evidence than the nearest alternative."""


class ProtectionIndex:
    """The protective-device tree of an oriented network, built lazily as questions come:
    an engine keeps one for the network it follows."""

    def __init__(self, topology: Topology, previous: "ProtectionIndex | None" = None) -> None:
        """`previous`, an index of the same network before some switching, lends what
        switching does not change."""
        self.topology = topology
        served = topology.network.accounts_at
        self.node_of: dict[str, str]
        if previous is not None and previous.topology.network.accounts_at is served:
            self.node_of = previous.node_of  # switching moves no customer off their node
        else:
            self.node_of = {
                account: node for node, accounts in served.items() for account in accounts
            }
        self.counts = topology.customer_counts()
        self._chain: dict[str, tuple[str, ...]] = {}
        self._parent: dict[str, str | None] = {}
        self._accounts: dict[str, frozenset[str]] = {}

    def chain(self, account: str) -> tuple[str, ...]:
        """Protective devices above a customer, nearest first (empty when not energized)."""
        node = self.node_of.get(account)
        if node is None:
            return ()
        if node not in self._chain:
            chain = self.topology.protective_chain(node)
            self._chain[node] = chain
            for child, parent in pairwise(chain):
                self._parent[child] = parent
            if chain:
                self._parent.setdefault(chain[-1], None)
        return self._chain[node]

    def prime(self, accounts: Iterable[str]) -> None:
        """Find the chains of many customers at once (`Topology.protective_chains`)."""
        nodes = {self.node_of[a] for a in accounts if a in self.node_of}
        missing = nodes - self._chain.keys()
        for node, chain in self.topology.protective_chains(sorted(missing)).items():
            self._chain[node] = chain
            for child, parent in pairwise(chain):
                self._parent[child] = parent
            if chain:
                self._parent.setdefault(chain[-1], None)

    def device_chain(self, device: str) -> tuple[str, ...]:
        """The device and the protective devices above it, nearest first."""
        links = self.topology.network.links
        above = self.topology.upstream(device).devices
        chain = (device, *(d for d in above if links[d].is_protective))
        for child, parent in pairwise(chain):
            self._parent[child] = parent
        return chain

    def parent(self, device: str) -> str | None:
        return self._parent.get(device)

    def accounts(self, device: str) -> frozenset[str]:
        if device not in self._accounts:
            self._accounts[device] = self.topology.accounts_below(device)
        return self._accounts[device]

    def kind(self, device: str) -> str:
        return self.topology.network.links[device].kind.value


def predict(
    topology: Topology,
    evidence: Iterable[Evidence],
    params: Params = Params(),
    *,
    known_out: Iterable[str] = (),
) -> list[Prediction]:
    """The most likely set of faults; `known_out` are devices SCADA or a crew confirmed."""
    return infer(topology, evidence, params, known_out=known_out).predictions


def infer(
    topology: Topology,
    evidence: Iterable[Evidence],
    params: Params = Params(),
    *,
    known_out: Iterable[str] = (),
    index: "ProtectionIndex | None" = None,
) -> "Inference":
    """`predict`, keeping the solver's scores to weigh each prediction's rivals; `index`,
    the topology's index kept from earlier calls (an engine's), saves building it again."""
    if index is None:
        index = ProtectionIndex(topology)
    by_account: dict[str, set[EvidenceKind]] = defaultdict(set)
    for item in evidence:
        by_account[item.account].add(item.kind)
    solver = _Solver(index, by_account, params, set(known_out))
    call_rate = params.call_rate
    for _ in range(3):  # re-estimate the call rate from what the solution explains
        chosen = solver.solve(call_rate)
        covered = sum(index.counts.get(d, 0) for d in chosen)
        calls = sum(solver.calls_under(d) for d in chosen)
        estimate = (calls + params.call_rate_weight * params.call_rate) / (
            covered + params.call_rate_weight
        )
        estimate = min(0.6, max(0.02, estimate))
        if abs(estimate - call_rate) < 0.005:
            break
        call_rate = estimate
    return Inference(solver.predictions(chosen), solver)


@dataclass(frozen=True)
class Explanation:
    """One way a prediction's evidence could have come about: who would be out, and its
    log-likelihood score. Scores compare only among one prediction's rivals."""

    label: str
    """`device`, `parent`, `below` (faults under the device instead), `service` (the
    callers' own services), `inside` (a lone caller's premise: their meter is live)."""
    device: str | None
    out: frozenset[str]
    score: float


class Inference:
    """Predictions with the solver that chose them, so each one's rivals can be weighed."""

    def __init__(self, predictions: list[Prediction], solver: "_Solver") -> None:
        self.predictions = predictions
        self._solver = solver

    def rivals(self, prediction: Prediction) -> list[Explanation]:
        """The prediction and the explanations next to it in the protective tree.

        For a device D with protective parent P: D itself, the best faults below D, and P.
        Scores are comparable because each world is scored over P's whole subtree: D's
        siblings keep what the solver chose for them in every world but P's. A single-service
        prediction is weighed at the caller's nearest protective device, with the caller's
        service and the caller's premise as the worlds where that device is closed."""
        solver = self._solver
        if prediction.kind == SERVICE:
            account = prediction.device
            chain = solver.index.chain(account)
            if not chain:
                return []
            focal, lone = chain[0], frozenset({account})
        else:
            focal, lone = prediction.device, frozenset()
        if focal in solver.forced or focal not in solver.value:
            return []
        parent = solver.index.parent(focal)
        if parent is not None and parent not in solver.value:
            parent = None
        siblings: frozenset[str] = frozenset()
        rest = 0.0
        if parent is not None:
            others = sorted(solver.children.get(parent, set()) - {focal})
            siblings = solver.accounts_of(solver.choose(others))
            rest = solver.below[parent] - max(0.0, solver.best[focal])
            if not math.isfinite(rest):  # a sibling is known out: the parent is not in doubt
                parent, rest = None, 0.0
        if not math.isfinite(solver.below[focal]):
            return []  # a device below is known out: the facts settle it
        below = solver.accounts_of(solver.choose(sorted(solver.children.get(focal, ()))))
        own = siblings | solver.index.accounts(focal)
        worlds = [Explanation("device", focal, own, rest + solver.value[focal])]
        if prediction.kind == SERVICE:
            now = rest + solver.below[focal]
            said = solver.evidence[prediction.device]  # the caller's meter, if it answered
            service = now + (solver.weights[EvidenceKind.LIVE] if EvidenceKind.LIVE in said else 0)
            inside = now + solver.params.inside_premise_odds
            if EvidenceKind.LAST_GASP in said:
                inside -= solver.weights[EvidenceKind.LAST_GASP]
            worlds.append(Explanation("service", None, siblings | below | lone, service))
            worlds.append(Explanation("inside", None, siblings | below, inside))
        else:
            callers = frozenset(
                a for a in solver.evidenced_under[focal] if solver.evidence[a] & OUT_KINDS
            )
            below_score = rest + solver.below[focal]
            worlds.append(Explanation("below", None, siblings | below | callers, below_score))
        if parent is not None:
            worlds.append(
                Explanation("parent", parent, solver.index.accounts(parent), solver.value[parent])
            )
        return worlds


class _Solver:
    """Exact passes over the part of the protective tree that has evidence under it: the
    tree is built once, then solved for each call rate tried."""

    def __init__(
        self,
        index: ProtectionIndex,
        evidence: Mapping[str, set[EvidenceKind]],
        params: Params,
        forced: set[str],
    ) -> None:
        self.index = index
        self.evidence = evidence
        self.params = params
        self.forced = forced
        self.evidenced_under: dict[str, list[str]] = defaultdict(list)
        self.kinds_under: dict[str, Counter[frozenset[EvidenceKind]]] = defaultdict(Counter)
        """Device -> how many customers under it gave each set of evidence: a device's
        value is a few products, however many customers gasped below it."""
        self.children: dict[str, set[str]] = defaultdict(set)
        self.roots: set[str] = set()
        index.prime(evidence)
        for account, kinds in evidence.items():
            chain = index.chain(account)
            said = frozenset(kinds)
            for device in chain:
                self.evidenced_under[device].append(account)
                self.kinds_under[device][said] += 1
            self._add_branch(chain)
        for device in forced:
            self._add_branch(index.device_chain(device))
        self.silent = 0.0
        self.weights: dict[EvidenceKind, float] = {}
        self.value: dict[str, float] = {}
        self.best: dict[str, float] = {}
        self.below: dict[str, float] = {}

    def _add_branch(self, chain: tuple[str, ...]) -> None:
        for device in chain:
            self.evidenced_under.setdefault(device, [])
        for child, parent in pairwise(chain):
            self.children[parent].add(child)
        if chain:
            self.roots.add(chain[-1])

    def _weigh(self, kinds: frozenset[EvidenceKind]) -> float:
        if EvidenceKind.LIVE in kinds:
            return self.weights[EvidenceKind.LIVE]
        return sum(self.weights[k] for k in kinds)

    def _own_value(self, device: str) -> float:
        if device in self.forced:
            return math.inf
        said = self.kinds_under.get(device, Counter())
        silent = self.index.counts.get(device, 0) - sum(said.values())
        cost = self.params.fault_cost.get(self.index.kind(device), self.params.default_fault_cost)
        evidence = sum(n * self._weigh(kinds) for kinds, n in said.items())
        return evidence + silent * self.silent - cost

    def calls_under(self, device: str) -> int:
        said = self.kinds_under.get(device, Counter())
        return sum(n for kinds, n in said.items() if EvidenceKind.CALL in kinds)

    def _solve_subtree(self, device: str) -> float:
        below = sum(max(0.0, self._solve_subtree(c)) for c in self.children.get(device, ()))
        self.value[device] = self._own_value(device)
        self.below[device] = below
        self.best[device] = max(self.value[device], below)
        return self.best[device]

    def solve(self, call_rate: float) -> list[str]:
        """The best set of faults when affected customers call at `call_rate`."""
        p, q = call_rate, self.params.noise_rate
        self.silent = math.log((1 - p) / (1 - q))
        params = self.params
        self.weights = {
            EvidenceKind.CALL: math.log(p / q),
            EvidenceKind.LAST_GASP: math.log(params.last_gasp_rate / params.false_last_gasp_rate),
            EvidenceKind.LIVE: math.log(params.live_error_rate),
        }
        for root in self.roots:
            self._solve_subtree(root)
        return self.choose(sorted(self.roots))

    def choose(self, starts: list[str]) -> list[str]:
        """The best antichain under these devices (the devices themselves included)."""
        chosen: list[str] = []
        stack = list(starts)
        while stack:
            device = stack.pop()
            if self.best[device] <= 0:
                continue
            if self.value[device] > self.below[device]:  # a tie goes to the device nearer the fault
                chosen.append(device)
            else:
                stack.extend(sorted(self.children.get(device, ())))
        return chosen

    def accounts_of(self, devices: Iterable[str]) -> frozenset[str]:
        return frozenset().union(*(self.index.accounts(d) for d in devices))

    def _confidence(self, device: str) -> float:
        if device in self.forced:
            return 1.0
        margins = [self.value[device], self.value[device] - self.below[device]]
        parent = self.index.parent(device)
        if parent is not None and parent in self.value:
            margins.append(self.below[parent] - self.value[parent])
        return _sigmoid(min(margins))

    def predictions(self, chosen: list[str]) -> list[Prediction]:
        results = []
        explained: set[str] = set()
        for device in chosen:
            accounts = self.index.accounts(device)
            supporting = frozenset(
                a for a in self.evidenced_under[device] if self.evidence[a] != {EvidenceKind.LIVE}
            )
            explained |= supporting
            results.append(
                Prediction(
                    device=device,
                    kind=self.index.kind(device),
                    accounts=accounts,
                    evidence=supporting,
                    confidence=round(self._confidence(device), 3),
                )
            )
        for account in sorted(self.evidence):
            if account in explained or not (self.evidence[account] - {EvidenceKind.LIVE}):
                continue
            chain = self.index.chain(account)
            alternative = self.value.get(chain[0], -math.inf) if chain else -math.inf
            confidence = min(self.params.service_confidence_cap, _sigmoid(-alternative))
            results.append(
                Prediction(
                    device=account,
                    kind=SERVICE,
                    accounts=frozenset({account}),
                    evidence=frozenset({account}),
                    confidence=round(confidence, 3),
                )
            )
        return results


def _sigmoid(x: float) -> float:
    if x == math.inf:
        return 1.0
    if x == -math.inf:
        return 0.0
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, x))))
