"""helpers.cache: the seeded, position-free keys that choose held-out and shown examples."""
import hashlib

from helpers.cache import in_hash_bucket, text_key


def test_text_key_is_the_seeded_sha256_and_orders_stably():
    assert text_key(42, "안녕") == hashlib.sha256("42:안녕".encode()).hexdigest()
    texts = [f"문장 {i}" for i in range(50)]
    assert sorted(texts, key=lambda t: text_key(1, t)) == sorted(reversed(texts), key=lambda t: text_key(1, t))
    assert sorted(texts, key=lambda t: text_key(1, t)) != sorted(texts, key=lambda t: text_key(2, t))


def test_in_hash_bucket_takes_about_the_asked_share_and_depends_on_the_namespace():
    keys = [str(i) for i in range(10_000)]
    share = sum(in_hash_bucket("nsmc-movie", k, 10) for k in keys) / len(keys)
    assert 0.08 < share < 0.12
    assert not any(in_hash_bucket("x", k, 0) for k in keys) and all(in_hash_bucket("x", k, 100) for k in keys)
    a = {k for k in keys if in_hash_bucket("a", k, 10)}
    b = {k for k in keys if in_hash_bucket("b", k, 10)}
    assert a != b
