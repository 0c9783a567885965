#!/usr/bin/env python3
"""S3 upload beside boto3: the same file, the same local moto_server, in one run.

Starts its own moto_server on a free 127.0.0.1 port, creates a bucket, writes the benchmark's
deterministic bytes (byte i is the top byte of i * 2654435761 mod 2**32, as S3UploadScenario.pattern)
to a temporary file, then runs --rounds rounds, each of
  * boto3: `client.upload_file` of that file with the default TransferConfig (timed around the call),
  * ours:  `export-benchmarks --only s3-upload --runs 1 --s3-file FILE` against the same server
           (timed inside the benchmark, from beginWrite to finish(); its JSON line is read back),
alternating which goes first, and deletes each object after its upload so moto's memory does not
grow. Prints per-round MB/s (10^6 bytes), the medians, ours/boto3, the ETags of both objects (a
multipart ETag is the MD5 of the parts' MD5s: equal means equal bytes in equal parts), what boto3
sent on an UploadPart, and the load average before and after. Stops moto at the end.

    swift build -c release --product export-benchmarks
    python3 Scripts/s3_upload_bench.py [--rounds 5] [--megabytes 100] [--parts-in-flight N] [--unsigned] [--transport urlsession|http1]

CPU seconds: boto3's is this process's user + system time around upload_file (its threads included),
ours the benchmark process's over the same span. Each JSON line keeps the keys scenario,
megabytesPerSecond and peakRSSMiB (boto3's is this Python process's peak, which includes the
file-writing buffer; moto runs in a process of its own).
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def pattern_block(start, count):
    """The benchmark's bytes at [start, start + count)."""
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 24 for i in range(start, start + count))


def write_file(path, size):
    try:
        import numpy
    except ImportError:
        numpy = None
    block = 1 << 20
    with open(path, "wb") as out:
        for start in range(0, size, block):
            count = min(block, size - start)
            if numpy is None:
                out.write(pattern_block(start, count))
            else:
                offsets = numpy.arange(start, start + count, dtype=numpy.uint64)
                out.write((((offsets * 2654435761) & 0xFFFFFFFF) >> 24).astype(numpy.uint8).tobytes())


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port):
    moto = subprocess.Popen(
        ["moto_server", "-p", str(port), "-H", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if moto.poll() is not None:
            sys.exit("moto_server exited with status %d" % moto.returncode)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/moto-api/" % port, timeout=1).read()
            return moto
        except OSError:
            time.sleep(0.2)
    moto.terminate()
    sys.exit("moto_server did not answer on port %d within 30 s" % port)


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=100, help="file size in 10^6 bytes (default 100)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "export-benchmarks"))
    parser.add_argument("--parts-in-flight", type=int, help="ours; the S3BlobStore default otherwise")
    parser.add_argument("--part-mib", type=int, help="ours; 8 (the S3BlobStore default, as boto3's) otherwise")
    parser.add_argument("--unsigned", action="store_true", help="ours: unsignedPartPayloads")
    parser.add_argument("--transport", choices=["urlsession", "http1"],
                        help="ours: the HTTPTransport (HTTP1Transport, the adapters' default, or URLSessionTransport)")
    args = parser.parse_args()
    if args.rounds < 1 or args.megabytes < 1:
        parser.error("--rounds and --megabytes must be at least 1")
    if not os.access(args.binary, os.X_OK):
        sys.exit("%s is missing: swift build -c release --product export-benchmarks" % args.binary)

    os.environ.update(CREDENTIALS)
    import boto3
    import botocore
    from boto3.s3.transfer import TransferConfig

    size = args.megabytes * 1_000_000
    bucket = "s3-upload-bench"
    load_before = load()
    port = free_port()
    moto = start_moto(port)
    endpoint = "http://127.0.0.1:%d" % port
    handle, path = tempfile.mkstemp(prefix="s3-upload-bench-", suffix=".bin")
    os.close(handle)
    try:
        write_file(path, size)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        config = TransferConfig()
        sent = {}

        def record(request, **_):
            if not sent:
                sent.update({k: v for k, v in request.headers.items() if k.lower().startswith("x-amz-")})

        print(
            "boto3 %s (botocore %s) upload_file, default TransferConfig: multipart above %d MiB, %d MiB parts, "
            "%d threads" % (boto3.__version__, botocore.__version__, config.multipart_threshold >> 20,
                            config.multipart_chunksize >> 20, config.max_request_concurrency)
        )
        ours_command = [args.binary, "--only", "s3-upload", "--runs", "1", "--s3-endpoint", endpoint,
                        "--s3-bucket", bucket, "--s3-file", path]
        if args.parts_in_flight:
            ours_command += ["--s3-parts-in-flight", str(args.parts_in_flight)]
        if args.part_mib:
            ours_command += ["--s3-part-mib", str(args.part_mib)]
        if args.unsigned:
            ours_command.append("--s3-unsigned")
        if args.transport:
            ours_command += ["--s3-transport", args.transport]
        print("ours: " + " ".join(ours_command))
        print("file: %s, %d bytes; moto_server on %s; load average before: %s" % (path, size, endpoint, load_before))

        def run_boto3(round_number):
            # A client of its own each round, closed afterwards, as ours is a process of its own, so
            # both open their connections afresh and leave none idle to moto for the next upload.
            uploader = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            uploader.meta.events.register("before-send.s3.UploadPart", record)
            key = "boto3-%d.bin" % round_number
            cpu_start = resource.getrusage(resource.RUSAGE_SELF)
            start = time.perf_counter()
            uploader.upload_file(path, bucket, key, Config=config)
            seconds = time.perf_counter() - start
            cpu_end = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
            etag = uploader.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
            uploader.delete_object(Bucket=bucket, Key=key)
            uploader.close()
            return size / seconds / 1e6, cpu, etag

        def run_ours():
            output = subprocess.run(ours_command, check=True, capture_output=True, text=True).stdout
            line = [line for line in output.splitlines() if line.startswith('{"')][-1]
            return json.loads(line)

        boto3_rates, ours_rates, ours_rss, etags = [], [], [], set()
        boto3_cpu, ours_cpu = [], []
        for round_number in range(1, args.rounds + 1):
            order = ["boto3", "ours"] if round_number % 2 else ["ours", "boto3"]
            figures = {}
            for who in order:
                if who == "boto3":
                    rate, cpu, etag = run_boto3(round_number)
                    boto3_rates.append(rate)
                    boto3_cpu.append(cpu)
                    figures["boto3"] = rate
                    etags.add(("boto3", etag))
                else:
                    result = run_ours()
                    ours_rates.append(result["megabytesPerSecond"])
                    ours_rss.append(result["peakRSSMiB"])
                    ours_cpu.append(result["cpuSeconds"])
                    figures["ours"] = result["megabytesPerSecond"]
                    etags.add(("ours", result["etag"]))
            print("round %d (%s first): boto3 %.1f MB/s (%.2f CPU s), ours %.1f MB/s (%.2f CPU s), ours/boto3 %.2fx; load %s" % (
                round_number, order[0], figures["boto3"], boto3_cpu[-1], figures["ours"], ours_cpu[-1],
                figures["ours"] / figures["boto3"], load()))
        boto3_median = statistics.median(boto3_rates)
        ours_median = statistics.median(ours_rates)
        load_after = load()
        print("boto3 sent on UploadPart: %s" % ", ".join(
            "%s: %s" % (k, v if k.lower() != "authorization" else "...") for k, v in sorted(sent.items())))
        print("ETags: %s" % ", ".join("%s %s" % pair for pair in sorted(etags)))
        print("medians over %d rounds: boto3 %.1f MB/s (%.2f CPU s), ours %.1f MB/s (%.2f CPU s), ours/boto3 %.2fx; "
              "load average after: %s" % (args.rounds, boto3_median, statistics.median(boto3_cpu), ours_median,
                                          statistics.median(ours_cpu), ours_median / boto3_median, load_after))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"scenario": "s3-upload-boto3", "rounds": args.rounds, "bytes": size,
                          "megabytesPerSecond": round(boto3_median, 1), "perRound": [round(r, 1) for r in boto3_rates],
                          "cpuSeconds": round(statistics.median(boto3_cpu), 2),
                          "peakRSSMiB": round(peak, 1)}, sort_keys=True))
        print(json.dumps({"scenario": "s3-upload", "rounds": args.rounds, "bytes": size,
                          "megabytesPerSecond": round(ours_median, 1), "perRound": [round(r, 1) for r in ours_rates],
                          "cpuSeconds": round(statistics.median(ours_cpu), 2),
                          "peakRSSMiB": max(ours_rss), "oursOverBoto3": round(ours_median / boto3_median, 2),
                          "loadAverageBefore": load_before, "loadAverageAfter": load_after}, sort_keys=True))
    finally:
        os.unlink(path)
        moto.terminate()
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            moto.kill()


if __name__ == "__main__":
    main()
