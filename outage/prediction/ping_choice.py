"""Which meters to ping for a prediction: the fewest whose answers best settle its rivals.

Pure, no database. A prediction's rivals (`Inference.rivals`: the device, the faults below
it, its parent, the callers' own services or premises) each say who is out. A meter's
answer is "off" where it is out and "on" where it is not, or nothing at all with the
head-end's loss rate. So a meter is worth only its *signature*, the set of rivals under
which it is out, and meters with one signature are interchangeable but for loss: asking
two of them fails to answer only with probability loss².

The value of a set of pings is its expected information gain about which rival is true,
in bits, under the engine's own posterior (the rivals' scores, normalised). Answers are
taken as noiseless (a live meter saying "on" while out is a one-in-a-million event), so
the pings that do answer split the rivals into classes and the gain is the entropy of that
split; averaging over which pings answer gives the expected gain exactly:

    EIG(S) = sum over subsets R of the signatures asked in S:
             P(R answered, the rest silent) * H(rivals grouped by their answers on R)

where a signature asked n times answers with probability 1 - loss^n. Meters are added
greedily, the one with the largest gain first, while a ping adds at least `min_gain_bits`
and the budget lasts. Greedy choice is near-optimal here: the expected gain of a set of
independent noisy tests is monotone and submodular (Krause and Guestrin, 2005).
"""

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import product

from outage.prediction.inference import Explanation


@dataclass(frozen=True)
class PingPolicy:
    """When to ask meters and how many; settings `OUTAGE_AMI_PING_*`."""

    confidence: float = 0.99
    """Ask only while the likeliest rival is less probable than this."""
    budget: int = 10
    """Pings per incident, over its whole life."""
    loss: float = 0.1
    """The head-end's share of pings that get no answer."""
    min_gain_bits: float = 0.05
    """A ping must be expected to tell at least this much."""


def posterior(rivals: Sequence[Explanation]) -> list[float]:
    """The rivals' probabilities, from their (finite) log-likelihood scores."""
    if not all(math.isfinite(r.score) for r in rivals):
        raise ValueError("rivals are weighed on finite scores")
    top = max(r.score for r in rivals)
    weights = [math.exp(max(-50.0, r.score - top)) for r in rivals]
    total = sum(weights)
    return [w / total for w in weights]


def expected_gain(probabilities: Sequence[float], asked: dict[int, int], loss: float) -> float:
    """Expected bits from asking `asked[signature]` meters of each signature (a bit mask
    over the rivals: bit i set when the meter is out under rival i)."""
    signatures = [s for s, n in asked.items() if n > 0]
    gain = 0.0
    for answered in product((False, True), repeat=len(signatures)):
        chance = 1.0
        heard = []
        for signature, hears in zip(signatures, answered, strict=True):
            silent = loss ** asked[signature]
            chance *= (1 - silent) if hears else silent
            if hears:
                heard.append(signature)
        if chance == 0.0 or not heard:
            continue
        classes: dict[tuple[int, ...], float] = defaultdict(float)
        for i, p in enumerate(probabilities):
            classes[tuple((s >> i) & 1 for s in heard)] += p
        gain += chance * _entropy(classes.values())
    return gain


def choose_pings(
    rivals: Sequence[Explanation],
    *,
    pingable: Callable[[str], bool],
    asked: Collection[str],
    pending: Collection[str],
    spent: int,
    policy: PingPolicy,
) -> list[str]:
    """The accounts whose meters to ask now, best first; empty when the rivals are settled.

    `asked`: accounts whose meters answered or are waiting (not asked again); `pending`:
    those still waiting, counted as asked already; `spent`: pings this incident used."""
    if len(rivals) < 2:
        return []
    probabilities = posterior(rivals)
    if max(probabilities) >= policy.confidence:
        return []
    candidates = _by_signature(rivals, pingable, asked, limit=policy.budget)
    chosen: dict[int, int] = defaultdict(int)
    for account in pending:
        signature = _signature(rivals, account)
        if 0 < signature < (1 << len(rivals)) - 1:
            chosen[signature] += 1
    taken: dict[int, int] = defaultdict(int)
    picked: list[str] = []
    current = expected_gain(probabilities, chosen, policy.loss)
    while spent + len(picked) < policy.budget:
        best: tuple[float, int] | None = None
        for signature, accounts in candidates.items():
            if taken[signature] == len(accounts):
                continue
            trial = {**chosen, signature: chosen[signature] + 1}
            gain = expected_gain(probabilities, trial, policy.loss) - current
            if best is None or gain > best[0]:
                best = (gain, signature)
        if best is None or best[0] < policy.min_gain_bits:
            break
        gain, signature = best
        picked.append(candidates[signature][taken[signature]])
        taken[signature] += 1
        chosen[signature] += 1
        current += gain
    return picked


def _signature(rivals: Sequence[Explanation], account: str) -> int:
    return sum(1 << i for i, rival in enumerate(rivals) if account in rival.out)


def _by_signature(
    rivals: Sequence[Explanation],
    pingable: Callable[[str], bool],
    asked: Collection[str],
    *,
    limit: int,
) -> dict[int, list[str]]:
    """Up to `limit` askable accounts of each informative signature, in a stable order."""
    everyone = (1 << len(rivals)) - 1
    found: dict[int, list[str]] = defaultdict(list)
    for account in sorted(frozenset().union(*(r.out for r in rivals))):
        if account in asked or not pingable(account):
            continue
        signature = _signature(rivals, account)
        if signature != everyone and len(found[signature]) < limit:
            found[signature].append(account)
    return found


def _entropy(probabilities: Collection[float]) -> float:
    return -sum(p * math.log2(p) for p in probabilities if p > 0)
