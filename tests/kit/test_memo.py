from invite_service.kit.memo import TtlMemo


def test_a_value_lives_for_its_ttl_and_the_oldest_goes_past_the_size() -> None:
    clock = [100.0]
    memo = TtlMemo(ttl_seconds=10, max_entries=2, now=lambda: clock[0])
    memo.put("a", 1)
    clock[0] = 109.9
    assert memo.get("a") == 1
    clock[0] = 110.0
    assert memo.get("a") is None  # expired
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 3)
