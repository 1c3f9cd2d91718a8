"""The Python peer of scripts/bench-coldstart: the same handler shape as the Rust functions
(settings read from the environment, the AWS clients built once at start), with boto3."""

import json
import os

import boto3

SETTINGS = {
    "table": os.environ["PHANANH_TABLE"],
    "bucket": os.environ["PHANANH_BUCKET"],
    "events_topic_arn": os.environ["PHANANH_EVENTS_TOPIC_ARN"],
    "alerts_topic_arn": os.environ["PHANANH_ALERTS_TOPIC_ARN"],
}
_session = boto3.session.Session()
CLIENTS = {name: _session.client(name) for name in os.environ.get("PEER_CLIENTS", "dynamodb").split(",")}


def handler(event, context):
    return {"ok": True, "clients": sorted(CLIENTS), "event": json.dumps(event)[:64]}
