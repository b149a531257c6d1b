"""A producer's wait for the run's consumer groups: it sends nothing before every partition of its
topic has a start position committed by a consumer of this run, and every consumer instance that can
get a partition has committed one.

A consumer commits where it starts reading each partition it is given, with the run's start token
and its instance number as the commit's metadata (``orchestrator.runner.consumer``). Waiting for
every instance, not only for every partition, lets the group settle first: the first member to join
is given all partitions, and each later one takes some of them away in a rebalance. Sightings add
up over checks, as later commits (auto-commit, a rebalance) carry no token. The committed offsets
are read through a consumer of the group that never subscribes (so never joins it):
AdminClient.list_consumer_group_offsets crashes the process when it meets NOT_COORDINATOR while a
group starts (confluentinc/librdkafka#5040).
"""

from __future__ import annotations

from confluent_kafka import Consumer, KafkaException, TopicPartition

from orchestrator.runner.client import LOG, client_config, start_token
from orchestrator.runner.spec import RunnerSpec

CHECK_TIMEOUT_S = 2.0


class GroupsReady:
    def __init__(self, spec: RunnerSpec, partitions: int):
        self.spec = spec
        self.partitions = partitions
        self.token = start_token(spec)
        self.seen: dict[str, dict[int, str]] = {group: {} for group in spec.await_groups}  # partition -> instance
        self._readers: dict[str, Consumer] = {}

    def _ready(self, group: str) -> bool:
        seen = self.seen[group]
        return len(seen) == self.partitions and len(set(seen.values())) >= min(self.spec.await_groups[group], self.partitions)

    def check(self) -> bool:
        """One look at the committed offsets of every group still pending; True when all are ready."""
        wanted = [TopicPartition(self.spec.topic, p) for p in range(self.partitions)]
        for group, seen in self.seen.items():
            if self._ready(group):
                continue
            try:
                found = self._reader(group).committed(wanted, timeout=CHECK_TIMEOUT_S)
            except KafkaException:
                continue  # the group's coordinator is not known yet: look again
            for tp in found:
                if tp.offset >= 0 and tp.metadata and tp.metadata.startswith(self.token):
                    seen[tp.partition] = tp.metadata[len(self.token):]
        return all(self._ready(group) for group in self.seen)

    def _reader(self, group: str) -> Consumer:
        if group not in self._readers:
            config = client_config(self.spec, {})
            self._readers[group] = Consumer({"bootstrap.servers": config["bootstrap.servers"],
                                             **_shared(config), "group.id": group, "enable.auto.commit": "false"},
                                            logger=LOG)
        return self._readers[group]

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()


def _shared(config: dict[str, str]) -> dict[str, str]:
    """The connection settings of a producer's configuration (security, client id), without the
    producer-only properties a consumer would warn about."""
    return {k: v for k, v in config.items() if k.startswith(("security.", "sasl.", "ssl.", "client.", "socket."))}
