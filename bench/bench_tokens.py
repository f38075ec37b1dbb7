"""Token counting for the estimate of 1,000,000 chat requests: tokens/s and requests/s."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import report, sample_texts, timer
from zenbatch.requests import build_requests
from zenbatch.templates import RequestTemplate
from zenbatch.tokens import TokenCounter

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def main() -> None:
    frame = pd.DataFrame({"text": sample_texts(ROWS)})
    template = RequestTemplate(model="gpt-4o-mini", system_prompt="Label the review.", user_template="{text}")
    requests = build_requests(frame, template)
    counter = TokenCounter("gpt-4o-mini")
    texts = frame["text"].tolist()
    with timer() as counting:
        total = sum(counter.count(text) for text in texts)
    with timer() as estimate:
        prompt_tokens = sum(sum(chunk.prompt_tokens or []) for chunk in requests.iter_chunks(counter=counter))
    report("tokens_requests", ROWS)
    report("tokens_text_tokens", total)
    report("tokens_per_s", total / counting["seconds"])
    report("tokens_estimate_prompt_tokens", prompt_tokens)
    report("tokens_estimate_seconds", estimate["seconds"])
    report("tokens_estimate_requests_per_s", ROWS / estimate["seconds"])
    report("tokens_estimate_tokens_per_s", prompt_tokens / estimate["seconds"])


if __name__ == "__main__":
    main()
