"""The scripted model: canned and rule-based replies, and the same scripts reached through litellm."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hgm.gateway.upstream import load_litellm
from hgm.models.scripted import (
    Canned,
    Rule,
    Rules,
    ScriptError,
    answer,
    count_tokens,
    get_script,
    register_script,
    tool_call,
    unregister_script,
)

USER: dict[str, Any] = {"role": "user", "content": "fix the bug in parser.py"}


def test_canned_replays_by_assistant_turn() -> None:
    script = Canned(["first", {"content": "second"}])
    assert script.respond([USER], None) == {"content": "first"}
    history = [USER, {"role": "assistant", "content": "first"}, {"role": "user", "content": "go on"}]
    assert script.respond(history, None) == {"content": "second"}
    # No hidden state: asking about the first turn again gives the first reply again.
    assert script.respond([USER], None) == {"content": "first"}


def test_canned_used_up_says_so_unless_repeating() -> None:
    history = [USER, {"role": "assistant", "content": "a"}]
    with pytest.raises(ScriptError, match="has 1 replies and the conversation asks for reply 2"):
        Canned(["a"]).respond(history, None)
    assert Canned(["a", "b"], repeat_last=True).respond(history * 3, None) == {"content": "b"}


def test_canned_needs_a_reply() -> None:
    with pytest.raises(ValueError, match="at least one reply"):
        Canned([])


def test_rules_first_match_on_last_user_or_tool_message_wins() -> None:
    script = Rules(
        [
            (r"error: (\w+)", lambda m, msgs: f"saw {m.group(1)} after {len(msgs)} messages"),
            Rule(r"bug", "look at the bug"),
            Rule(r"bug", "never reached"),
        ]
    )
    assert script.respond([USER], None) == {"content": "look at the bug"}
    history: list[dict[str, Any]] = [
        USER,
        {"role": "assistant", "content": None, "tool_calls": [tool_call("bash", {"cmd": "pytest"}, id="c1")]},
        {"role": "tool", "tool_call_id": "c1", "content": "error: KeyError in parser"},
    ]
    assert script.respond(history, None) == {"content": "saw KeyError after 3 messages"}


def test_rules_ignore_earlier_messages_and_fall_back_to_default() -> None:
    script = Rules([("bug", "bug reply")], default="nothing to do")
    history = [USER, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "thanks"}]
    assert script.respond(history, None) == {"content": "nothing to do"}


def test_rules_without_match_name_the_patterns() -> None:
    with pytest.raises(ScriptError, match=r"no rule matched .*'thanks'.*'bug', 'x\+'"):
        Rules([("bug", "a"), ("x+", "b")]).respond([{"role": "user", "content": "thanks"}], None)


def test_rules_reject_a_bad_regex_up_front() -> None:
    with pytest.raises(re.error):
        Rules([("(unclosed", "a")])


def test_answer_fills_tool_call_ids_and_json_arguments_and_counts_words() -> None:
    calls = [tool_call("bash", {"cmd": "ls -la"}), {"function": {"name": "read", "arguments": {"path": "a.py"}}}]
    register_script("t-answer", Canned([{"content": "running two", "tool_calls": calls}]))
    try:
        result = answer("t-answer", [USER])
    finally:
        unregister_script("t-answer")
    calls = result.message["tool_calls"]
    assert [c["id"] for c in calls] == ["call_0_0", "call_0_1"]
    assert [c["type"] for c in calls] == ["function", "function"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"cmd": "ls -la"}
    assert json.loads(calls[1]["function"]["arguments"]) == {"path": "a.py"}
    assert result.message["role"] == "assistant"
    assert result.finish_reason == "tool_calls"
    assert result.prompt_tokens == 5
    assert result.completion_tokens == 2 + 4 + 3  # words: "running two", bash {"cmd": "ls -la"}, read {"path": "a.py"}


def test_count_tokens_counts_words_of_text_parts_and_tool_calls() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "one two"}, {"type": "image_url", "image_url": {}}]},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("bash", '{"cmd": "ls"}')]},
    ]
    assert count_tokens(messages) == 2 + 3
    assert count_tokens([{"role": "user", "content": ""}]) == 1


def test_unknown_script_lists_registered_ones() -> None:
    register_script("t-known", Canned(["x"]))
    try:
        with pytest.raises(ScriptError, match="no script is registered as 't-missing'.*t-known") as info:
            get_script("t-missing")
        assert info.value.status == 404
    finally:
        unregister_script("t-known")


def test_script_names_cannot_contain_a_slash() -> None:
    with pytest.raises(ValueError, match="contain no '/'"):
        register_script("a/b", Canned(["x"]))


def test_litellm_completion_reaches_the_script_with_usage() -> None:
    litellm = load_litellm()
    register_script("t-litellm", Canned(["hello there", {"tool_calls": [tool_call("bash", {"cmd": "ls"})]}]))
    try:
        first = litellm.completion(model="scripted/t-litellm", messages=[USER])
        history = [USER, {"role": "assistant", "content": "hello there"}, {"role": "user", "content": "next"}]
        second = litellm.completion(model="scripted/t-litellm", messages=history)
    finally:
        unregister_script("t-litellm")
    assert first.choices[0].message.content == "hello there"
    assert first.choices[0].finish_reason == "stop"
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (5, 2)
    assert first.model == "scripted/t-litellm"
    call = second.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("call_1_0", "bash", {"cmd": "ls"})
    assert second.choices[0].finish_reason == "tool_calls"


def test_litellm_maps_script_failures_to_client_and_not_found_errors() -> None:
    litellm = load_litellm()
    register_script("t-short", Canned(["only"]))
    try:
        with pytest.raises(litellm.BadRequestError, match="scripted/t-short: this script has 1 replies"):
            litellm.completion(model="scripted/t-short", messages=[USER, {"role": "assistant", "content": "x"}])
        with pytest.raises(litellm.NotFoundError, match="no script is registered as 't-nowhere'"):
            litellm.completion(model="scripted/t-nowhere", messages=[USER])
    finally:
        unregister_script("t-short")


def test_concurrent_conversations_get_their_own_turns() -> None:
    litellm = load_litellm()
    register_script("t-threads", Canned([f"reply {i}" for i in range(6)]))

    def run(turn: int) -> str:
        history = [USER] + [{"role": "assistant", "content": "x"}] * turn
        return str(litellm.completion(model="scripted/t-threads", messages=history).choices[0].message.content)

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            replies = list(pool.map(run, [5, 4, 3, 2, 1, 0] * 3))
    finally:
        unregister_script("t-threads")
    assert replies == [f"reply {i}" for i in [5, 4, 3, 2, 1, 0]] * 3
