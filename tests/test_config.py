from pathlib import Path

import pytest

from hgm.config import ConfigError, load_config, parse_duration, valid_keys


def test_defaults_are_valid():
    config = load_config()
    assert config.policy == "hgm"
    assert config.search.alpha == 0.6
    assert config.budget.max_evals == 100


def test_yaml_file_and_dotted_overrides(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("policy: dgm\nsearch:\n  alpha: 0.5\nbudget:\n  max_time: 2h\n")
    config = load_config(path, ["search.alpha=0.7", "workers=3"])
    assert config.policy == "dgm"
    assert config.search.alpha == 0.7
    assert config.workers == 3
    assert config.budget.max_time == 7200


def test_unknown_key_in_yaml_names_it_and_suggests(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("search:\n  alpah: 0.5\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'search.alpah'; did you mean 'search.alpha'\?"):
        load_config(path)


def test_unknown_override_key_suggests_nearest():
    with pytest.raises(ConfigError, match=r"'budget.max_eval'.*'budget.max_evals'"):
        load_config(overrides=["budget.max_eval=3"])


def test_negative_budget_is_refused():
    with pytest.raises(ConfigError, match=r"budget.max_evals"):
        load_config(overrides=["budget.max_evals=-5"])


def test_override_without_equals_sign():
    with pytest.raises(ConfigError, match="key=value"):
        load_config(overrides=["search.alpha"])


def test_bad_yaml_and_missing_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_base_config_is_overridden_not_replaced():
    base = load_config(overrides=["seed=7", "budget.max_evals=10"]).model_dump()
    config = load_config(base=base, overrides=["budget.max_evals=20"])
    assert config.seed == 7
    assert config.budget.max_evals == 20


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("1d", 86400)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")


def test_valid_keys_cover_sections():
    keys = valid_keys()
    assert "search.alpha" in keys and "budget.max_cost" in keys and "sim.landscape" in keys


@pytest.mark.parametrize("alpha", ["0", "-0.2", "1.5", "7"])
def test_alpha_outside_zero_to_one_is_refused(alpha: str):
    with pytest.raises(ConfigError, match=r"config key 'search.alpha'"):
        load_config(overrides=[f"search.alpha={alpha}"])


def test_alpha_of_one_is_accepted():
    assert load_config(overrides=["search.alpha=1"]).search.alpha == 1.0


def test_search_switches_are_validated_with_clear_messages():
    config = load_config(overrides=["search.count_running_evals=true", "search.best_rule=mean", "policy=reference"])
    assert config.search.count_running_evals and config.search.best_rule == "mean" and config.policy == "reference"
    with pytest.raises(ConfigError, match="search.best_rule.*'quantile' or 'mean'"):
        load_config(overrides=["search.best_rule=median"])
    with pytest.raises(ConfigError, match=r"dgm_full \(5\) must be >= dgm_batch \(10\)"):
        load_config(overrides=["search.dgm_full=5"])
    with pytest.raises(ConfigError, match="search.count_failed"):
        load_config(overrides=["search.count_failed=maybe"])


def test_a_run_frozen_before_a_search_setting_existed_resumes_as_it_started():
    from hgm.config import resumed_config

    frozen = load_config().model_dump(mode="json")
    del frozen["search"]["count_failed"]  # an archive from before the setting existed counted failed children
    assert resumed_config(frozen, []).search.count_failed is True
    assert load_config().search.count_failed is False
    current = load_config().model_dump(mode="json")
    assert resumed_config(current, []).search.count_failed is False


def test_resume_may_move_a_run_onto_a_ray_cluster_but_not_change_its_world():
    from hgm.config import resumed_config

    frozen = load_config().model_dump(mode="json")
    moved = resumed_config(frozen, ["execution.executor=ray", "execution.ray_address=10.0.0.5:6379"])
    assert (moved.execution.executor, moved.execution.ray_address) == ("ray", "10.0.0.5:6379")
    with pytest.raises(ConfigError, match="cannot change on resume"):
        resumed_config(frozen, ["world=coding"])


def test_unknown_executor_is_refused():
    with pytest.raises(ConfigError, match="execution.executor"):
        load_config(overrides=["execution.executor=slurm"])


def test_meta_mode_is_refused_on_a_ray_cluster_with_what_to_do():
    with pytest.raises(ConfigError, match="selfmod.mode=meta runs only with execution.executor=local"):
        load_config(overrides=["selfmod.mode=meta", "execution.executor=ray"])
    assert load_config(overrides=["selfmod.mode=meta"]).selfmod.mode == "meta"
