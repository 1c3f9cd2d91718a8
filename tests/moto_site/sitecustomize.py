"""Loaded by the moto_server the tests start (PYTHONPATH, tests/src/moto.rs).

DynamoDB applies each write's condition and the write itself atomically; moto's server answers
requests on several threads and checks a condition, then writes, without a lock, so two
concurrent conditional writes can both succeed on the emulator where one would fail on AWS.
The tests of "two staff at once" and "two sweeps at once" depend on that guarantee, so every
DynamoDB write runs under one lock here. Reads are left alone.
"""

import threading

_LOCK = threading.RLock()


def _serialise_dynamodb_writes():
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue

        def locked(self, *args, __original=original, **kwargs):
            with _LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)


try:
    _serialise_dynamodb_writes()
except ImportError:
    pass
