"""The outbox publisher on a laptop: the emulator's table stream fed to `orders.outbox.handler`.

In the cloud a Lambda event source mapping reads the stream (template.yaml,
OutboxFunction). This loop gives the same handler the same thing: batches shaped
exactly like Lambda's DynamoDB stream event, only the records the mapping's filter
lets through, and, when the handler reports batchItemFailures, the batch again from
the lowest failed sequence number after a backoff, up to the mapping's retry limit,
then an on-failure record to the outbox DLQ and on past the batch: a record that
cannot be published is parked where the user can see it, and never stops the ones
after it.

Like the mapping, it keeps a checkpoint per shard (the last sequence number it is
done with), written to `--checkpoint` when given: restarted by `make dev`, the loop
goes on from there instead of publishing the whole stream again. A shard iterator
the stream no longer accepts is replaced by one from the checkpoint.

Run as `python -m devstack.outbox_loop --stream-arn ...` with the service's environment.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from orders.adapters.keys import EVENT_PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

    Handler = Callable[[dict[str, Any], Any], Mapping[str, Any]]

log = logging.getLogger("devstack.outbox")

# The event source mapping in template.yaml (OutboxFunction, Events.TableStream).
STARTING_POSITION = "TRIM_HORIZON"
BATCH_SIZE = 100
MAX_RETRY_ATTEMPTS = 5
# Lambda polls a shard about four times a second and waits up to the batching window
# (1 s) to fill a batch. Idle, the loop slows to that window: every poll leaves a shard
# iterator in moto's memory for good, so a day of fast idle polling would add up.
BUSY_POLL_SECONDS = 0.1
IDLE_POLL_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 5.0


def matches_filter(record: Mapping[str, Any]) -> bool:
    """The mapping's FilterCriteria: INSERTs whose sort key begins with EVENT# (outbox items)."""
    sort_key = record.get("dynamodb", {}).get("Keys", {}).get("sk", {}).get("S", "")
    return record.get("eventName") == "INSERT" and str(sort_key).startswith(EVENT_PREFIX)


def lambda_record(record: Mapping[str, Any], *, stream_arn: str) -> dict[str, Any]:
    """One GetRecords record as Lambda delivers it: epoch-seconds time and the source ARN."""
    data = record["dynamodb"]
    created = data.get("ApproximateCreationDateTime")
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(created.timestamp())
        if isinstance(created, datetime)
        else created,
        "Keys": data["Keys"],
        "SequenceNumber": data["SequenceNumber"],
        "SizeBytes": data.get("SizeBytes", 0),
        "StreamViewType": data.get("StreamViewType", "NEW_AND_OLD_IMAGES"),
    }
    for image in ("NewImage", "OldImage"):
        if image in data:
            dynamodb[image] = data[image]
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        # The stream's own region (moto writes us-east-1 into every record whatever it is).
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def to_lambda_event(records: Sequence[Mapping[str, Any]], *, stream_arn: str) -> dict[str, Any]:
    """A batch of GetRecords records as the Lambda DynamoDB stream event."""
    return {"Records": [lambda_record(r, stream_arn=stream_arn) for r in records]}


@dataclass
class Shard:
    """A reading position in one shard; `iterator` None once a closed shard is drained."""

    shard_id: str
    iterator: str | None
    attempts: int = 0  # failed deliveries of the batch that starts at the current position
    checkpoint: str | None = None  # the last sequence number handled (published, parked, skipped)


def read_checkpoints(path: Path | None, stream_arn: str) -> dict[str, str]:
    """Sequence numbers per shard saved by an earlier run on this stream, else nothing."""
    if path is None or not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("ignoring unreadable checkpoint file %s", path)
        return {}
    if not isinstance(saved, dict) or saved.get("stream_arn") != stream_arn:
        return {}
    return {str(k): str(v) for k, v in dict(saved.get("shards", {})).items()}


def write_checkpoints(path: Path, stream_arn: str, shards: Mapping[str, Shard]) -> None:
    """Atomically: a loop killed mid-write leaves the previous checkpoint, never half of one."""
    done = {s.shard_id: s.checkpoint for s in shards.values() if s.checkpoint is not None}
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps({"stream_arn": stream_arn, "shards": done}), encoding="utf-8")
    os.replace(partial, path)


@dataclass
class OutboxLoop:
    """Reads every shard of one stream and hands matching batches to `handler`."""

    client: DynamoDBStreamsClient
    stream_arn: str
    handler: Handler
    on_failure: Callable[[dict[str, Any]], None] | None = None
    batch_size: int = BATCH_SIZE
    max_retry_attempts: int = MAX_RETRY_ATTEMPTS
    checkpoint_path: Path | None = None
    shards: dict[str, Shard] = field(default_factory=dict)

    def discover(self, position: str = STARTING_POSITION) -> None:
        """Start reading shards not seen yet (all of them on the first call).

        A shard with a saved checkpoint (an earlier run of the loop) starts after it.
        """
        saved = read_checkpoints(self.checkpoint_path, self.stream_arn)
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self.shards:
                continue
            checkpoint = saved.get(shard_id)
            iterator = (
                self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", checkpoint)
                if checkpoint
                else self._iterator(shard_id, position)
            )
            self.shards[shard_id] = Shard(shard_id, iterator, checkpoint=checkpoint)

    def step(self) -> tuple[int, float]:
        """Read each shard once: (records handed to the handler, backoff asked for, seconds)."""
        delivered, backoff = 0, 0.0
        closed = False
        before = {s.shard_id: s.checkpoint for s in self.shards.values()}
        for shard in list(self.shards.values()):
            if shard.iterator is None:
                continue
            sent, wait = self._step_shard(shard)
            delivered, backoff = delivered + sent, max(backoff, wait)
            closed = closed or shard.iterator is None
        if self.checkpoint_path is not None and any(
            s.checkpoint != before.get(s.shard_id) for s in self.shards.values()
        ):
            write_checkpoints(self.checkpoint_path, self.stream_arn, self.shards)
        if closed:
            # A shard closed (real streams roll shards every few hours): start its children.
            # Drained shards stay in `shards`, so they are not read again from the start.
            self.discover("TRIM_HORIZON")
        return delivered, backoff

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set."""
        self.discover()
        log.info(
            "reading %s from %s (%d shard(s))", self.stream_arn, STARTING_POSITION, len(self.shards)
        )
        while not stop.is_set():
            try:
                delivered, backoff = self.step()
            except Exception:
                # The emulator going away (the stack stopping) must not kill the loop first.
                log.exception("stream read failed; retrying")
                delivered, backoff = 0, MAX_BACKOFF_SECONDS
            stop.wait(backoff or (BUSY_POLL_SECONDS if delivered else IDLE_POLL_SECONDS))

    def _step_shard(self, shard: Shard) -> tuple[int, float]:
        assert shard.iterator is not None
        try:
            response = self.client.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except ClientError as exc:
            # An iterator the stream no longer takes (expired, or from a stream that was
            # replaced): go on from the checkpoint rather than asking with it for ever.
            log.warning(
                "shard %s refused its iterator (%s); resuming after %s",
                shard.shard_id,
                exc.response.get("Error", {}).get("Code"),
                shard.checkpoint or STARTING_POSITION,
            )
            shard.iterator = self._resume(shard)
            return 0, FIRST_BACKOFF_SECONDS
        records = response.get("Records", [])
        batch = [r for r in records if matches_filter(r)]
        if not batch:
            shard.iterator = response.get("NextShardIterator")
            if records:
                shard.checkpoint = str(records[-1]["dynamodb"]["SequenceNumber"])
            return 0, 0.0
        failed_at = self._deliver(batch)
        if failed_at is None:
            shard.iterator, shard.attempts = response.get("NextShardIterator"), 0
            shard.checkpoint = str(records[-1]["dynamodb"]["SequenceNumber"])
            return len(batch), 0.0
        shard.attempts += 1
        if shard.attempts > self.max_retry_attempts:
            self._give_up(shard, batch)
            shard.checkpoint = str(batch[-1]["dynamodb"]["SequenceNumber"])
            shard.iterator = self._iterator(
                shard.shard_id, "AFTER_SEQUENCE_NUMBER", shard.checkpoint
            )
            shard.attempts = 0
            return len(batch), 0.0
        # What Lambda does with ReportBatchItemFailures: checkpoint before the lowest failed
        # record and read again from there, so the records before it are not sent twice.
        done = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) < int(failed_at)]
        if done:
            shard.checkpoint = str(done[-1]["dynamodb"]["SequenceNumber"])
        shard.iterator = self._iterator(shard.shard_id, "AT_SEQUENCE_NUMBER", failed_at)
        backoff = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (shard.attempts - 1))
        log.warning(
            "batch failed from sequence number %s (attempt %d of %d); retrying in %.1f s",
            failed_at,
            shard.attempts,
            self.max_retry_attempts + 1,
            backoff,
        )
        return len(batch), backoff

    def _resume(self, shard: Shard) -> str:
        if shard.checkpoint is None:
            return self._iterator(shard.shard_id, STARTING_POSITION)
        return self._iterator(shard.shard_id, "AFTER_SEQUENCE_NUMBER", shard.checkpoint)

    def _deliver(self, batch: Sequence[Mapping[str, Any]]) -> str | None:
        """Call the handler; the lowest sequence number it failed, or None when all went."""
        event = to_lambda_event(batch, stream_arn=self.stream_arn)
        try:
            response = self.handler(event, None)
        except Exception:
            # A raised error fails the whole batch, as on Lambda.
            log.exception("handler raised; the whole batch fails")
            return str(batch[0]["dynamodb"]["SequenceNumber"])
        failures = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        # Sequence numbers are decimal strings of any length: compare them as numbers.
        return min(failures, key=int) if failures else None

    def _give_up(self, shard: Shard, batch: Sequence[Mapping[str, Any]]) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        log.error(
            "giving up on %d record(s) %s..%s after %d attempts; first: %s; %s",
            len(batch),
            first["SequenceNumber"],
            last["SequenceNumber"],
            shard.attempts,
            json.dumps(first.get("Keys", {}), separators=(",", ":")),
            "batch info sent to the on-failure destination"
            if self.on_failure is not None
            else "no on-failure destination (--dlq-url) to send it to",
        )
        if self.on_failure is not None:
            self.on_failure(
                {
                    "version": "1.0",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "requestContext": {
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": shard.attempts,
                    },
                    "DDBStreamBatchInfo": {
                        "shardId": shard.shard_id,
                        "startSequenceNumber": first["SequenceNumber"],
                        "endSequenceNumber": last["SequenceNumber"],
                        "batchSize": len(batch),
                        "streamArn": self.stream_arn,
                    },
                }
            )

    def _iterator(self, shard_id: str, kind: str, sequence_number: str | None = None) -> str:
        params: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if sequence_number is not None:
            params["SequenceNumber"] = sequence_number
        return str(self.client.get_shard_iterator(**params)["ShardIterator"])


def sqs_sender(client: SQSClient, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure destination: one message per abandoned batch, as Lambda sends."""

    def send(record: dict[str, Any]) -> None:
        client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    return send


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.outbox_loop", description=__doc__)
    parser.add_argument("--stream-arn", required=True, help="the table's stream (TableStreamArn)")
    parser.add_argument("--dlq-url", help="on-failure destination queue (OutboxDlqUrl)")
    parser.add_argument(
        "--checkpoint", type=Path, help="file keeping the read position across restarts"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Imported after the arguments: a usage error should not wait for the service to import.
    from orders.outbox import handler

    # Endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL ...).
    session = boto3.session.Session()
    on_failure = sqs_sender(session.client("sqs"), args.dlq_url) if args.dlq_url else None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    loop = OutboxLoop(
        client=session.client("dynamodbstreams"),
        stream_arn=args.stream_arn,
        handler=handler,
        on_failure=on_failure,
        checkpoint_path=args.checkpoint,
    )
    loop.run(stop)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
