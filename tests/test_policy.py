import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import betaincc

from hgm.policy import (
    POLICIES,
    Decision,
    SearchParams,
    best_belief,
    dgm_weights,
    group_argmax,
    make_policy,
    sample_beta,
    tau,
    thompson_pick,
)
from hgm.posterior import beta_cdf, beta_lower_quantiles
from hgm.tree import Tree

TASKS = [f"t{i:02d}" for i in range(60)]
NO_START = SearchParams(initial_evals=0, initial_expansions=0)


@pytest.fixture(params=[0, 10**9], ids=["grouped", "per-node"])
def plain_max(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run a test with Thompson draws made per group (0) or per node (trees up to PLAIN_MAX candidates)."""
    monkeypatch.setattr("hgm.policy.PLAIN_MAX", request.param)
    return int(request.param)


def rng(k: int = 0) -> np.random.Generator:
    return np.random.default_rng([7, 0, k])


def record(tree: Tree, node: int, successes: int, failures: int) -> None:
    """Give `node` that many new results on its first free tasks."""
    left = tree.tasks_left(node)
    for i in range(successes + failures):
        tree.finish_eval(node, left[i], i < successes)


def star(n_children: int, root: tuple[int, int] = (0, 0)) -> Tree:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    record(tree, 0, *root)
    for i in range(1, n_children + 1):
        tree.add_node(i, 0)
    return tree


def test_tau_is_budget_over_what_is_left() -> None:
    assert tau(100, 0, True) == 1.0
    assert tau(100, 50, True) == 2.0
    assert tau(100, 75, True) == 4.0
    assert tau(100, 99, True) == 100.0
    assert tau(100, 99, False) == 1.0
    with pytest.raises(ValueError, match="used evaluations"):
        tau(100, 100, True)
    with pytest.raises(ValueError, match="budget must be positive"):
        tau(0, 0, True)


@pytest.mark.parametrize(
    ("n_evals", "n_children", "expected"),
    [
        (10, 3, "expand"),  # 10**0.6 = 3.98 >= 3
        (10, 4, "evaluate"),  # 3.98 < 4
        (32, 8, "expand"),  # 32**0.6 = 8 exactly
        (32, 9, "evaluate"),
        (100, 15, "expand"),  # 100**0.6 = 15.85
        (100, 16, "evaluate"),
    ],
)
def test_expand_when_evaluations_to_the_alpha_reach_the_tree_size(n_evals: int, n_children: int, expected: str) -> None:
    tree = star(n_children, root=(n_evals // 2, 0))
    for i in range(n_evals - n_evals // 2):
        tree.finish_eval(1 + i % n_children, TASKS[i], False)
    assert tree.n_evals == n_evals
    d = make_policy("hgm", SearchParams()).decide(tree, 1000, rng())
    assert d is not None and d.kind == expected


def test_expansions_in_flight_and_failed_nodes_count_in_the_tree_size() -> None:
    tree = star(2, root=(10, 0))  # N = 10: 3.98 >= |T| = 2
    policy = make_policy("hgm", SearchParams(count_failed=True))
    assert policy.decide(tree, 1000, rng()) == Decision("expand", 0)
    tree.add_node(3, 0)
    tree.mark_failed(3)
    tree.start_expand(1)  # |T| = 3 failed-included + 1 in flight = 4
    d = policy.decide(tree, 1000, rng())
    assert d is not None and d.kind == "evaluate"


def test_start_up_evaluates_the_root_then_expands_it() -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    policy = make_policy("hgm", SearchParams(initial_evals=3, initial_expansions=2))
    kinds = []
    for k in range(5):
        d = policy.decide(tree, 100, rng(k))
        assert d is not None and d.node == 0
        kinds.append(d.kind)
        if d.kind == "evaluate":
            assert d.task is not None
            tree.start_eval(0, d.task)  # in flight is enough to move on
        else:
            tree.start_expand(0)
    assert kinds == ["evaluate"] * 3 + ["expand"] * 2
    assert tree.n_evals == 0
    d = policy.decide(tree, 100, rng(5))
    assert d is not None and d.kind == "evaluate" and d.node == 0


def test_without_a_success_the_policy_evaluates_instead_of_expanding() -> None:
    tree = star(0, root=(0, 5))
    d = make_policy("hgm", NO_START).decide(tree, 100, rng())
    assert d is not None and d.kind == "evaluate" and d.node == 0


def test_expansion_candidates_are_non_failed_nodes_with_a_success(plain_max: int) -> None:
    tree = star(4, root=(0, 3))
    record(tree, 1, 0, 2)  # evaluated, no success
    record(tree, 3, 1, 9)  # the only candidate
    tree.add_node(5, 3)
    tree.mark_failed(5)
    assert tree.n_evals**0.6 >= 5  # N = 15: the rule says expand
    for name in ("hgm", "greedy", "random"):
        policy = make_policy(name, NO_START)
        assert {policy.decide(tree, 1000, rng(k)) for k in range(50)} == {Decision("expand", 3)}, name


def test_when_no_node_has_tasks_left_the_policy_expands(plain_max: int) -> None:
    tree = Tree(["a", "b"])
    tree.add_node(0, None)
    tree.finish_eval(0, "a", True)
    tree.finish_eval(0, "b", False)
    for node in (1, 2):
        tree.add_node(node, 0)
        tree.start_eval(node, "a")
        tree.start_eval(node, "b")
    tree.add_node(3, 0)
    tree.mark_failed(3)
    # N = 2 gives 1.5 < |T| = 3, so the rule says evaluate, but nothing is left to evaluate.
    assert make_policy("hgm", NO_START).decide(tree, 100, rng()) == Decision("expand", 0)


def test_nothing_is_scheduled_once_the_budget_is_used_or_reserved() -> None:
    tree = star(2, root=(3, 2))
    tree.start_eval(1, TASKS[0])
    for name in POLICIES:
        policy = make_policy(name, SearchParams())
        # The reference evaluates the root's first five tasks outside the budget.
        paid = 1 if name == "reference" else 6
        assert policy.charged(tree) == paid
        assert policy.decide(tree, paid, rng()) is None
        assert policy.decide(tree, paid + 1, rng()) is not None


def test_thompson_evaluation_prefers_the_node_that_succeeds(plain_max: int) -> None:
    tree = star(2, root=(5, 5))
    record(tree, 1, 9, 1)
    record(tree, 2, 1, 9)
    policy = make_policy("hgm", SearchParams(alpha=0.1, initial_evals=0, initial_expansions=0))  # 30**0.1 < 2
    counts: Counter[object] = Counter()
    for k in range(300):
        d = policy.decide(tree, 10_000, rng(k))
        assert d is not None and d.kind == "evaluate"
        assert d.task in tree.tasks_left(d.node)
        counts[d.node] += 1
    assert counts[1] > 250
    assert counts[2] < 5


def test_the_evaluated_task_is_drawn_uniformly_from_the_tasks_left() -> None:
    tree = Tree(["a", "b", "c", "d"])
    tree.add_node(0, None)
    tree.finish_eval(0, "b", True)
    policy = make_policy("hgm", SearchParams(initial_evals=4))
    counts: Counter[object] = Counter()
    for k in range(900):
        d = policy.decide(tree, 100, rng(k))
        assert d is not None
        counts[d.task] += 1
    assert set(counts) == {"a", "c", "d"}
    assert all(250 < c < 350 for c in counts.values())


def clade_vs_own_tree() -> Tree:
    """Node 1 scores 5/5 itself but its children fail; node 2 scores 1/5 but its children succeed."""
    tree = star(2, root=(2, 3))
    record(tree, 1, 5, 0)
    record(tree, 2, 1, 4)
    for child, parent, result in [(3, 1, (0, 10)), (4, 1, (1, 14)), (5, 2, (9, 1)), (6, 2, (30, 5))]:
        tree.add_node(child, parent)
        record(tree, child, *result)
    return tree


def test_hgm_expands_by_clade_while_greedy_expands_by_own_mean(plain_max: int) -> None:
    tree = clade_vs_own_tree()
    assert tree.cmp(1) == 6 / 30
    assert tree.cmp(2) == 40 / 50
    hgm = Counter(make_policy("hgm", NO_START).decide(tree, 10_000, rng(k)).node for k in range(200))  # type: ignore[union-attr]
    greedy = {make_policy("greedy", NO_START).decide(tree, 10_000, rng(k)).node for k in range(50)}  # type: ignore[union-attr]
    assert greedy == {1}
    assert hgm[2] + hgm[5] + hgm[6] > 190
    assert hgm[1] == 0


def test_random_expands_a_uniformly_drawn_candidate() -> None:
    tree = clade_vs_own_tree()
    counts = Counter(make_policy("random", NO_START).decide(tree, 10_000, rng(k)).node for k in range(1400))  # type: ignore[union-attr]
    assert set(counts) == {0, 1, 2, 4, 5, 6}  # node 3 never succeeded
    assert all(180 < c < 290 for c in counts.values())


def test_greedy_breaks_ties_at_random() -> None:
    tree = star(3, root=(1, 1))
    record(tree, 1, 2, 0)
    record(tree, 2, 1, 0)
    record(tree, 3, 3, 1)
    assert {make_policy("greedy", NO_START).decide(tree, 10_000, rng(k)).node for k in range(40)} == {1, 2}  # type: ignore[union-attr]


def test_dgm_weights_match_hand_computed_values() -> None:
    tree = star(2, root=(1, 1))  # mean 0.5, two children
    record(tree, 1, 4, 0)  # mean 1.0, no children
    record(tree, 2, 1, 3)  # mean 0.25, no children
    tree.start_expand(2)  # counts as a child
    w = dgm_weights(tree, np.array([0, 1, 2]))
    raw = np.array([0.5 / 3, 1 / (1 + math.exp(-5)), 1 / (1 + math.exp(2.5)) / 2])
    assert np.allclose(w, raw / raw.sum())
    policy = make_policy("dgm", SearchParams(dgm_batch=1, dgm_full=1))
    counts = Counter(policy.decide(tree, 10_000, rng(k)).node for k in range(4000))  # type: ignore[union-attr]
    assert counts[1] / 4000 == pytest.approx(w[1], abs=0.03)
    assert counts[0] / 4000 == pytest.approx(w[0], abs=0.03)


def test_dgm_scores_each_new_child_on_the_fixed_batch_before_expanding() -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    policy = make_policy("dgm", SearchParams(dgm_batch=3, dgm_full=5, dgm_threshold=0.5))
    seen = []
    for _ in range(3):
        d = policy.decide(tree, 100, rng())
        assert d is not None and d.kind == "evaluate"
        seen.append((d.node, d.task))
        assert d.task is not None
        tree.start_eval(d.node, d.task)
    assert seen == [(0, "t00"), (0, "t01"), (0, "t02")]
    assert policy.decide(tree, 100, rng()) is None  # nothing scored yet: wait
    tree.finish_eval(0, "t00", True)
    tree.finish_eval(0, "t01", False)
    assert policy.decide(tree, 100, rng()) is None  # the first batch is not finished: still wait
    tree.finish_eval(0, "t02", False)
    assert policy.decide(tree, 100, rng()) == Decision("expand", 0)  # 1/3 is below the threshold: no more tasks
    tree.add_node(1, 0)
    assert policy.decide(tree, 100, rng()) == Decision("evaluate", 1, "t00")


def test_dgm_scores_a_child_that_passes_its_first_batch_on_more_tasks() -> None:
    tree = star(2)
    record(tree, 0, 1, 2)  # 1/3: stays at its first batch
    record(tree, 1, 2, 1)  # 2/3 >= 0.5: gets t03 and t04 as well
    record(tree, 2, 0, 3)
    policy = make_policy("dgm", SearchParams(dgm_batch=3, dgm_full=5, dgm_threshold=0.5))
    d = policy.decide(tree, 100, rng())
    assert d == Decision("evaluate", 1, "t03")
    tree.finish_eval(1, "t03", False)  # now 2/4, below the threshold, but the second stage is finished regardless
    assert policy.decide(tree, 100, rng()) == Decision("evaluate", 1, "t04")
    tree.finish_eval(1, "t04", False)
    d = policy.decide(tree, 100, rng())
    assert d is not None and d.kind == "expand"
    assert policy.best(tree) == 1  # 2/5 beats 1/3 and 0/3


def test_make_policy_names_the_valid_policies() -> None:
    assert [make_policy(n, SearchParams()).name for n in POLICIES] == list(POLICIES)
    with pytest.raises(ValueError, match="unknown policy 'best'; valid policies: hgm, reference, dgm, greedy, random"):
        make_policy("best", SearchParams())


def test_search_params_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="alpha"):
        SearchParams(alpha=0)
    with pytest.raises(ValueError, match="epsilon"):
        SearchParams(epsilon=1.0)
    with pytest.raises(ValueError, match="dgm_batch"):
        SearchParams(dgm_batch=0)


def test_beta_quantiles_match_closed_forms() -> None:
    q = beta_lower_quantiles(np.array([2, 0, 1]), np.array([0, 3, 1]), 0.01)
    # Beta(3, 1): x**3 = eps.  Beta(1, 4): 1 - (1 - x)**4 = eps.  Beta(2, 2): 3x^2 - 2x^3 = eps at x = 0.05890.
    assert q[0] == pytest.approx(0.01 ** (1 / 3), abs=1e-12)
    assert q[1] == pytest.approx(1 - 0.99**0.25, abs=1e-12)
    assert q[2] == pytest.approx(0.05890, abs=1e-5)
    assert beta_lower_quantiles(np.array([0]), np.array([0]), 0.2)[0] == pytest.approx(0.2, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(s=st.integers(0, 60), f=st.integers(0, 60), x=st.floats(0.001, 0.999))
def test_beta_cdf_is_the_binomial_tail(s: int, f: int, x: float) -> None:
    n = s + f + 1
    exact = sum(math.comb(n, k) * x**k * (1 - x) ** (n - k) for k in range(s + 1, n + 1))
    assert float(beta_cdf(np.array(x), np.array(s), np.array(f))) == pytest.approx(exact, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(s=st.integers(0, 150), f=st.integers(0, 150), eps=st.sampled_from([0.001, 0.01, 0.05, 0.5]))
def test_the_quantile_inverts_the_cdf(s: int, f: int, eps: float) -> None:
    q = beta_lower_quantiles(np.array([s]), np.array([f]), eps)
    assert float(beta_cdf(q, np.array([s]), np.array([f]))[0]) == pytest.approx(eps, abs=1e-9)


def test_best_belief_prefers_a_well_measured_node_over_a_lucky_one() -> None:
    tree = star(3)
    assert best_belief(tree, 0.01) is None
    record(tree, 1, 2, 0)
    record(tree, 2, 30, 10)
    record(tree, 3, 1, 1)
    assert best_belief(tree, 0.01) == 2
    assert best_belief(tree, 0.6) == 1  # with a loose quantile the 2/2 node's optimism wins


def test_best_belief_breaks_ties_by_the_first_id() -> None:
    tree = star(3)
    record(tree, 3, 3, 1)
    record(tree, 2, 3, 1)
    assert best_belief(tree, 0.01) == 2


def repeated_counts_tree() -> Tree:
    """Twelve own-count groups of one to five nodes each, so that most groups are exchangeable crowds."""
    tree = Tree(TASKS)
    tree.add_node(0, None)
    node = 0
    for s in range(4):
        for f in range(3):
            for _ in range(1 + (3 * s + f) % 5):
                if node:
                    tree.add_node(node, 0)
                record(tree, node, s, f)
                node += 1
    return tree


def exact_group_win_probs(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> np.ndarray:
    """P(the overall maximum of k[i] draws from Beta(a[i], b[i]) per group comes from group i), by quadrature."""
    dists = [stats.beta(ai, bi) for ai, bi in zip(a, b, strict=True)]

    def density(x: float, g: int) -> float:
        others = np.prod([d.cdf(x) ** kh for h, (d, kh) in enumerate(zip(dists, k, strict=True)) if h != g])
        return float(k[g] * dists[g].pdf(x) * dists[g].cdf(x) ** (k[g] - 1) * others)

    return np.array([integrate.quad(density, 0.0, 1.0, args=(g,), limit=200)[0] for g in range(len(dists))])


@pytest.mark.parametrize("t", [1.0, 1.7, 12.0])
def test_grouped_thompson_draws_have_the_law_of_one_draw_per_node(t: float) -> None:
    tree = repeated_counts_tree()
    groups = tree.eval_groups
    slots, s, f, k = groups.table()
    assert len(k) == 12 and k.max() == 5 and int(k.sum()) == tree.n_nodes
    probs = exact_group_win_probs(t * (1.0 + s), t * (1.0 + f), k)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    group_of = {groups.member(int(sl), i): g for g, sl in enumerate(slots) for i in range(int(k[g]))}
    n = 20_000
    generator = np.random.default_rng(11)
    picks = Counter(thompson_pick(groups, t, generator) for _ in range(n))
    # One Beta per node, argmax: the law the grouped sampler must reproduce.
    own_s, own_f = tree.own_s.astype(float), tree.own_f.astype(float)
    plain = Counter(int(np.argmax(sample_beta(generator, t * (1 + own_s), t * (1 + own_f)))) for _ in range(n))
    grouped_counts = np.bincount([group_of[node] for node in picks.elements()], minlength=12)
    plain_counts = np.bincount([group_of[node] for node in plain.elements()], minlength=12)
    keep = probs * n >= 20  # chi-square needs sizeable expected counts; compare the law given the kept groups
    expected = probs[keep] / probs[keep].sum()
    for counts in (grouped_counts, plain_counts):
        observed = counts[keep]
        assert stats.chisquare(observed, expected * observed.sum()).pvalue > 1e-4
    assert stats.chi2_contingency(np.array([grouped_counts[keep], plain_counts[keep]])).pvalue > 1e-4
    for g, sl in enumerate(slots):  # within a group the winner is uniform
        if k[g] > 1 and grouped_counts[g] > 200:
            within = [picks[groups.member(int(sl), i)] for i in range(int(k[g]))]
            assert stats.chisquare(within).pvalue > 1e-4


def test_group_argmax_finds_a_far_ahead_group_among_many_hopeless_ones() -> None:
    a = np.concatenate([[200.0], np.full(500, 2.0)])
    b = np.concatenate([[2.0], np.full(500, 200.0)])
    k = np.concatenate([[1], np.arange(1, 501)])
    generator = np.random.default_rng(3)
    assert {group_argmax(generator, a, b, k) for _ in range(50)} == {0}


@settings(max_examples=200, deadline=None)
@given(a=st.floats(1.0, 300.0), b=st.floats(1.0, 300.0), x=st.floats(0.0, 0.999999))
def test_the_tail_bounds_that_prune_groups_hold(a: float, b: float, x: float) -> None:
    from hgm.policy import _log_tail_bound

    exact = float(betaincc(a, b, x))
    mean = a / (a + b)
    assert exact <= math.exp(-2.0 * (a + b + 1.0) * max(x - mean, 0.0) ** 2) * (1 + 1e-9) + 1e-300
    assert exact <= math.exp(float(_log_tail_bound(np.array([a]), np.array([b]), x)[0])) * (1 + 1e-9) + 1e-300


def test_decisions_depend_on_the_tree_not_on_the_order_it_was_built_in(plain_max: int) -> None:
    results = [(1, 2, 1), (2, 2, 1), (3, 0, 2), (4, 2, 1), (5, 1, 0), (6, 0, 2)]
    first, second = star(6, root=(3, 1)), star(6, root=(3, 1))
    for node, s, f in results:
        record(first, node, s, f)
    for node, s, f in reversed(results):
        second.start_eval(node, TASKS[40])
        record(second, node, s, f)
        second.cancel_eval(node, TASKS[40])
    for name in ("hgm",):
        for alpha in (0.1, 1.0):  # evaluate, then expand
            policy = make_policy(name, SearchParams(alpha=alpha, initial_evals=0, initial_expansions=0))
            a = [policy.decide(first, 1000, rng(k)) for k in range(40)]
            assert a == [policy.decide(second, 1000, rng(k)) for k in range(40)]
            assert len({d.node for d in a if d is not None}) > 1


# ---- the published HGM policy (reference) and hgm's counting switches ------------------------------------------


def chain() -> Tree:
    """Root 1/2, its child 2/2, and that child's child 0/2."""
    tree = star(1, root=(1, 1))
    record(tree, 1, 2, 0)
    tree.add_node(2, 1)
    record(tree, 2, 0, 2)
    return tree


def test_reference_inflates_each_candidates_own_record_on_every_expansion_decision() -> None:
    tree = chain()
    # workers=1 gives min(5, floor(1**0.6)) = 1 initial expansion, which the root already has; its first two
    # evaluations were the free pre-run ones, so N = 4 and 4**0.6 = 2.30 >= |T| = 2: expand.
    policy = make_policy("reference", SearchParams(initial_evals=2))
    assert policy.charged(tree) == 4
    logged = policy.logged  # type: ignore[attr-defined]
    assert [list(x) for x in logged(tree)] == [[1, 2, 0], [2, 2, 2]]
    d = policy.decide(tree, 100, rng())
    assert d is not None and d.kind == "expand"
    # Root (1/2) and node 1 (2/2) are candidates; each list is extended by its descendants' lists in place.
    assert [list(x) for x in logged(tree)] == [[3, 2, 0], [6, 4, 2]]
    d = policy.decide(tree, 100, rng(1))
    assert d is not None and d.kind == "expand"
    assert [list(x) for x in logged(tree)] == [[5, 2, 0], [12, 6, 2]]  # the root now counts node 2's list twice
    # The tree itself is untouched: hgm's clade counts stay exact.
    assert [tree.own(i) for i in range(3)] == [(1, 1), (2, 0), (0, 2)]
    assert tree.clade(0) == (3, 3)
    # The final pick is the highest logged mean among non-root nodes.
    assert policy.best(tree) == 1
    tree.add_node(3, 0)
    record(tree, 3, 2, 3)  # 2/5 is below node 1's own 2/2 but above its logged 2/6
    assert policy.best(tree) == 3


def test_reference_start_up_is_free_root_evaluations_then_waited_for_root_expansions() -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    policy = make_policy("reference", SearchParams(initial_evals=3, workers=8))  # min(5, floor(8**0.6)) = 3
    for k in range(3):
        d = policy.decide(tree, 1, rng(k))
        assert d is not None and d.kind == "evaluate" and d.node == 0 and d.task is not None
        tree.start_eval(0, d.task)
    assert policy.decide(tree, 1, rng()) is None  # waits for the root's results
    for task in tree.in_flight(0):
        tree.finish_eval(0, task, task != tree.in_flight(0)[-1])
    assert policy.charged(tree) == 0
    for _ in range(3):
        assert policy.decide(tree, 1, rng()) == Decision("expand", 0)
        tree.start_expand(0)
    assert policy.decide(tree, 1, rng()) is None  # waits for the initial expansions
    for child in (1, 2, 3):
        tree.finish_expand(0)
        tree.add_node(child, 0)
    tree.mark_failed(3)
    d = policy.decide(tree, 1, rng())  # N = 0 < |T| = 2 (the failed child is discarded): evaluate, budget of 1
    assert d is not None and d.kind == "evaluate" and d.node in (1, 2)


def test_failed_children_in_the_tree_size_are_a_switch() -> None:
    tree = star(3, root=(3, 2))  # N = 5: 5**0.6 = 2.63
    tree.mark_failed(3)
    kinds = {}
    for label, name, params in [
        ("counted", "hgm", SearchParams(initial_evals=0, initial_expansions=0, count_failed=True)),
        ("left out", "hgm", SearchParams(initial_evals=0, initial_expansions=0, count_failed=False)),
        ("reference", "reference", SearchParams(initial_evals=0, count_failed=True)),  # it discards them regardless
    ]:
        d = make_policy(name, params).decide(tree, 100, rng())
        assert d is not None
        kinds[label] = d.kind
    assert kinds == {"counted": "evaluate", "left out": "expand", "reference": "expand"}


def test_running_evaluations_count_in_n_when_switched_on() -> None:
    # The case: 40 evaluations done, 32 running, 8 nodes besides the root, alpha 0.5.
    tree = star(8, root=(10, 10))
    for node in range(1, 9):
        record(tree, node, 1, 1)
        for task in tree.tasks_left(node)[:4]:
            tree.start_eval(node, task)
    assert (tree.n_evals, tree.n_evals_in_flight) == (36, 32)
    record(tree, 0, 2, 2)
    finished = SearchParams(alpha=0.5, initial_evals=0, initial_expansions=0)  # 40**0.5 = 6.3 < 8
    started = SearchParams(alpha=0.5, initial_evals=0, initial_expansions=0, count_running_evals=True)  # 8.5 >= 8
    assert {make_policy("hgm", finished).decide(tree, 1000, rng(k)).kind for k in range(50)} == {"evaluate"}  # type: ignore[union-attr]
    assert {make_policy("hgm", started).decide(tree, 1000, rng(k)).kind for k in range(50)} == {"expand"}  # type: ignore[union-attr]
    reference = make_policy("reference", SearchParams(alpha=0.5, initial_evals=0))
    assert {reference.decide(tree, 1000, rng(k)).kind for k in range(5)} == {"expand"}  # type: ignore[union-attr]


def test_running_expansions_in_the_tree_size_are_a_switch() -> None:
    tree = star(2, root=(10, 0))  # N = 10: 3.98
    for _ in range(2):
        tree.start_expand(0)  # |T| = 2 + 2 running
    counted = SearchParams(initial_evals=0, initial_expansions=0)
    uncounted = SearchParams(initial_evals=0, initial_expansions=0, count_running_expansions=False)
    assert make_policy("hgm", counted).decide(tree, 1000, rng()).kind == "evaluate"  # type: ignore[union-attr]
    assert make_policy("hgm", uncounted).decide(tree, 1000, rng()) == Decision("expand", 0)


def test_the_roots_start_up_can_be_free_of_budget_and_n() -> None:
    tree = star(0, root=(3, 2))
    paid = make_policy("hgm", SearchParams(initial_expansions=0))
    free = make_policy("hgm", SearchParams(initial_expansions=0, root_evals_in_budget=False))
    assert (paid.charged(tree), free.charged(tree)) == (5, 0)
    assert paid.decide(tree, 5, rng()) is None
    d = free.decide(tree, 1, rng())  # N = 0 < |T| = 0 is false: 0**0.6 >= 0, so expand
    assert d == Decision("expand", 0)
    tree.add_node(1, 0)  # now N = 0 < 1: evaluate
    d = free.decide(tree, 1, rng())
    assert d is not None and d.kind == "evaluate"
    d = paid.decide(tree, 6, rng())  # N = 5: 2.63 >= 1: expand
    assert d is not None and d.kind == "expand"


def test_the_final_pick_rule_is_a_switch() -> None:
    tree = star(3)
    record(tree, 1, 2, 0)
    record(tree, 2, 30, 10)
    record(tree, 3, 4, 0)
    assert make_policy("hgm", SearchParams()).best(tree) == 2
    assert make_policy("hgm", SearchParams(best_rule="mean")).best(tree) == 3  # 4/4 ties 2/2, more evaluations win
    assert make_policy("dgm", SearchParams()).best(tree) == 3


def test_search_params_reject_bad_switches() -> None:
    with pytest.raises(ValueError, match="best_rule must be one of quantile, mean, got 'median'"):
        SearchParams(best_rule="median")
    with pytest.raises(ValueError, match=r"dgm_full \(5\) must be >= dgm_batch \(10\)"):
        SearchParams(dgm_full=5)
    with pytest.raises(ValueError, match="dgm_threshold"):
        SearchParams(dgm_threshold=1.5)
    with pytest.raises(ValueError, match="workers"):
        SearchParams(workers=0)
