"""S3 as Distributed Map's item readers and writers will use it: an object streamed a chunk or a line at a
time (never read into memory whole), a bucket listed page by page, an object written from a file; S3's
errors named as the SDK integration names them (`S3.NoSuchKeyException`). Against moto's server."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pinflow.engine.integrations import base, s3
from pinflow.engine.integrations.aws_settings import AwsSettings
from tests.aws.conftest import AwsServer, Moto, one, output, task, unique


@pytest.fixture
def engine(serve: Callable[..., AwsServer], moto: Moto):
    return serve(aws=AwsSettings(endpoints={"s3": moto.url})).pf.engine


class _Held(BaseHTTPRequestHandler):
    """Serves GetObject for an object of SIZE bytes, sending the first MiB and then holding the rest back
    until the test has read lines from it: a reader that needed the whole object would never finish."""

    release = threading.Event()
    SIZE = 64 * 1024 * 1024
    LINE = b"x" * 1023 + b"\n"

    def do_GET(self) -> None:
        self.send_response(200)
        for name, value in (("Content-Length", str(self.SIZE)), ("Content-Type", "text/csv"), ("ETag", '"e"')):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(self.LINE * 1024)
        self.release.wait(30)
        for _ in range(self.SIZE // len(self.LINE) // 1024 - 1):
            self.wfile.write(self.LINE * 1024)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_object_is_read_as_it_arrives(serve: Callable[..., AwsServer]) -> None:
    held = ThreadingHTTPServer(("127.0.0.1", 0), _Held)
    threading.Thread(target=held.serve_forever, daemon=True).start()
    try:
        engine = serve(aws=AwsSettings(endpoints={"s3": f"http://127.0.0.1:{held.server_address[1]}"})).pf.engine
        began = time.monotonic()
        with s3.open_object(engine, "bucket1", "big.csv") as stream:
            assert stream.size == _Held.SIZE and stream.content_type == "text/csv"
            lines = stream.iter_lines()
            first = [next(lines) for _ in range(1000)]
            # Read while the server still holds back all but its first MiB (it waits 30 s for the release).
            assert time.monotonic() - began < 10 and first[0] == b"x" * 1023
            _Held.release.set()
            assert 1000 + sum(1 for _ in lines) == _Held.SIZE // len(_Held.LINE)
    finally:
        _Held.release.set()
        held.shutdown()
        held.server_close()


def test_lines_keep_their_content_across_chunk_edges(engine, moto: Moto) -> None:
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    text = b"alpha\r\nbeta\ngamma"
    moto.client("s3").put_object(Bucket=bucket, Key="k", Body=text)
    with s3.open_object(engine, bucket, "k") as stream:
        assert list(stream.iter_lines(size=3)) == [b"alpha", b"beta", b"gamma"]


def test_a_long_line_costs_its_length_not_its_length_times_its_chunks(engine, moto: Moto) -> None:
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    line = b"y" * (4 * 1024 * 1024)
    moto.client("s3").put_object(Bucket=bucket, Key="k", Body=line + b"\nz")
    with s3.open_object(engine, bucket, "k") as stream:
        began = time.monotonic()
        # 16,384 chunks: joining the line again at each one copies 32 GB (many seconds).
        lines = list(stream.iter_lines(size=256))
        elapsed = time.monotonic() - began
    assert lines == [line, b"z"]
    assert elapsed < 3


def test_listing_pages_through_every_object(engine, moto: Moto) -> None:
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    for index in range(7):
        moto.client("s3").put_object(Bucket=bucket, Key=f"in/{index}.json", Body=b"{}")
    moto.client("s3").put_object(Bucket=bucket, Key="other/x", Body=b"")
    listed = list(s3.list_objects(engine, bucket, "in/", page_size=3))
    assert [item["Key"] for item in listed] == [f"in/{index}.json" for index in range(7)]
    assert listed[0]["Size"] == 2 and listed[0]["LastModified"].endswith("Z")


def test_writing_from_a_file_and_errors_named_as_the_sdk_names_them(engine, moto: Moto) -> None:
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    written = s3.put_object(engine, bucket, "out/results.json", io.BytesIO(b'[{"ok": true}]'),
                            content_type="application/json")
    assert written["ETag"]
    stored = moto.client("s3").get_object(Bucket=bucket, Key="out/results.json")
    assert stored["Body"].read() == b'[{"ok": true}]' and stored["ContentType"] == "application/json"
    with pytest.raises(base.TaskError) as missing:
        s3.open_object(engine, bucket, "absent")
    assert missing.value.error == "S3.NoSuchKeyException"
    with pytest.raises(base.TaskError) as no_bucket:
        list(s3.list_objects(engine, unique("absent"), ""))
    assert no_bucket.value.error == "S3.NoSuchBucketException"


def test_the_item_reader_resources_also_run_as_tasks(serve: Callable[..., AwsServer], moto: Moto) -> None:
    aws = serve(aws=AwsSettings(endpoints={"s3": moto.url}))
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    moto.client("s3").put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    listed = output(aws.run(one(task("arn:aws:states:::s3:listObjectsV2", {"Bucket": bucket}))))
    assert [item["Key"] for item in listed["Contents"]] == ["a.txt"]
    read = output(aws.run(one(task("arn:aws:states:::s3:getObject", {"Bucket": bucket, "Key": "a.txt"}))))
    assert read["Body"] == "hello"
