"""A Distributed Map's ItemReader and ItemBatcher against moto's S3: JSON, JSONL and CSV objects (header
from the first row or given, each delimiter), a listed prefix, MaxItems and MaxItemsPath, batches; a
missing object fails the Map with States.ItemReaderFailed, which a Catch can handle."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.aws.conftest import AwsServer, Moto, output, unique


def bucket_with(moto: Moto, objects: dict[str, str]) -> str:
    name = unique("items")
    client = moto.client("s3")
    client.create_bucket(Bucket=name)
    for key, body in objects.items():
        client.put_object(Bucket=name, Key=key, Body=body.encode())
    return name


def reading(reader: dict[str, Any], **fields: Any) -> dict[str, Any]:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}}
    return {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemReader": reader, "ItemProcessor": processor,
                                                    "End": True, **fields}}}


def get_object(bucket: str, key: str, **config: Any) -> dict[str, Any]:
    reader: dict[str, Any] = {"Resource": "arn:aws:states:::s3:getObject",
                              "Parameters": {"Bucket": bucket, "Key": key}}
    if config:
        reader["ReaderConfig"] = config
    return reader


def test_a_json_array(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.json": json.dumps([{"n": 1}, {"n": 2}, {"n": 3}])})
    described = aws.run(reading(get_object(bucket, "items.json", InputType="JSON")))
    assert output(described) == [{"n": 1}, {"n": 2}, {"n": 3}]
    types = [e["type"] for e in aws.history(described["executionArn"])]
    assert types[:4] == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted"]
    started = next(e for e in aws.history(described["executionArn"]) if e["type"] == "MapStateStarted")
    assert started["mapStateStartedEventDetails"]["length"] == 3


def test_json_lines_with_max_items(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.jsonl": '{"n": 1}\n{"n": 2}\n\n{"n": 3}\n'})
    described = aws.run(reading(get_object(bucket, "items.jsonl", InputType="JSONL", MaxItems=2)))
    assert output(described) == [{"n": 1}, {"n": 2}]


def test_max_items_path_reads_the_input(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.jsonl": "1\n2\n3\n4\n"})
    reader = get_object(bucket, "items.jsonl", InputType="JSONL", MaxItemsPath="$.limit")
    assert output(aws.run(reading(reader), {"limit": 3})) == [1, 2, 3]


@pytest.mark.parametrize(("delimiter", "text"), [
    ("COMMA", 'name,qty\nbolt,"1,5"\nnut,2\n'),
    ("PIPE", "name|qty\nbolt|1,5\nnut|2\n"),
    ("SEMICOLON", "name;qty\nbolt;1,5\nnut;2\n"),
    ("TAB", "name\tqty\nbolt\t1,5\nnut\t2\n"),
])
def test_csv_with_the_header_in_the_first_row(aws: AwsServer, moto: Moto, delimiter: str, text: str) -> None:
    bucket = bucket_with(moto, {"items.csv": text})
    reader = get_object(bucket, "items.csv", InputType="CSV", CSVHeaderLocation="FIRST_ROW",
                        CSVDelimiter=delimiter)
    # Every CSV value is a string.
    assert output(aws.run(reading(reader))) == [{"name": "bolt", "qty": "1,5"}, {"name": "nut", "qty": "2"}]


def test_csv_with_given_headers(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.csv": "bolt,1\nnut,2\nwasher,3\n"})
    reader = get_object(bucket, "items.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                        CSVHeaders=["name", "qty"], MaxItems=2)
    assert output(aws.run(reading(reader))) == [{"name": "bolt", "qty": "1"}, {"name": "nut", "qty": "2"}]


def test_listing_a_prefix(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"in/a.txt": "a", "in/bb.txt": "bb", "out/c.txt": "c"})
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": bucket, "Prefix": "in/"}}
    items = output(aws.run(reading(reader)))
    assert [(item["Key"], item["Size"], item["StorageClass"]) for item in items] == [
        ("in/a.txt", 1, "STANDARD"), ("in/bb.txt", 2, "STANDARD")]
    assert sorted(items[0]) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert isinstance(items[0]["LastModified"], int)
    assert items[0]["Etag"].startswith('"')


def test_item_selector_and_batcher_apply_to_the_items_read(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.json": json.dumps([1, 2, 3, 4, 5])})
    definition = reading(get_object(bucket, "items.json", InputType="JSON"),
                         ItemSelector={"v.$": "$$.Map.Item.Value", "job.$": "$.job"},
                         ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"job.$": "$.job"}})
    assert output(aws.run(definition, {"job": "j"})) == [
        {"Items": [{"v": 1, "job": "j"}, {"v": 2, "job": "j"}], "BatchInput": {"job": "j"}},
        {"Items": [{"v": 3, "job": "j"}, {"v": 4, "job": "j"}], "BatchInput": {"job": "j"}},
        {"Items": [{"v": 5, "job": "j"}], "BatchInput": {"job": "j"}},
    ]


def test_jsonata_arguments(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.json": json.dumps(["x", "y", "z"])})
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "items.json"},
              "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.limit %}"}}
    definition = dict(reading(reader), QueryLanguage="JSONata")
    assert output(aws.run(definition, {"bucket": bucket, "limit": 2})) == ["x", "y"]


def test_a_missing_object_fails_with_item_reader_failed(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {})
    described = aws.run(reading(get_object(bucket, "absent.json", InputType="JSON")))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ItemReaderFailed"
    assert "S3.NoSuchKeyException" in described["cause"]
    caught = reading(get_object(bucket, "absent.json", InputType="JSON"),
                     Catch=[{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Recovered"}])
    caught["States"]["Recovered"] = {"Type": "Pass", "Result": "recovered", "End": True}
    assert output(aws.run(caught)) == "recovered"


def test_reading_needs_the_role_to_allow_it(aws: AwsServer, moto: Moto) -> None:
    bucket = bucket_with(moto, {"items.json": "[1]"})
    role = aws.role([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])
    described = aws.run(reading(get_object(bucket, "items.json", InputType="JSON")), role=role)
    assert (described["status"], described["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "s3:GetObject" in described["cause"]
