"""A few Prometheus metrics without a dependency: counters with labels and one histogram."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.help: dict[str, str] = {}
        self.hist_counts: dict[str, list[int]] = {}
        self.hist_sum: dict[str, float] = defaultdict(float)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += amount

    def observe(self, name: str, seconds: float) -> None:
        with self._lock:
            counts = self.hist_counts.setdefault(name, [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.hist_sum[name] += seconds

    def value(self, name: str, **labels: str) -> float:
        return self.counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def render(self) -> str:
        """The Prometheus text exposition format."""
        lines: list[str] = []
        with self._lock:
            seen: set[str] = set()
            for (name, labels), value in sorted(self.counters.items()):
                if name not in seen:
                    lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} counter"]
                    seen.add(name)
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                lines.append(
                    f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}"
                )
            for name, counts in sorted(self.hist_counts.items()):
                lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} histogram"]
                for bound, count in zip(BUCKETS, counts, strict=False):
                    lines.append(f'{name}_bucket{{le="{bound:g}"}} {count}')
                lines.append(f'{name}_bucket{{le="+Inf"}} {counts[-1]}')
                lines.append(f"{name}_sum {self.hist_sum[name]:.6f}")
                lines.append(f"{name}_count {counts[-1]}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


HELP = {
    "newsdigest_digests_posted_total": "Digests posted, per platform",
    "newsdigest_digests_failed_total": "Digests that could not be posted, per platform",
    "newsdigest_articles_fetched_total": "New articles stored from sources",
    "newsdigest_source_failures_total": "Failed source fetches",
    "newsdigest_summarizer_seconds": "Time to summarize one article",
    "newsdigest_llm_fallbacks_total": "LLM summaries replaced by the extractive summarizer",
}

METRICS = Metrics()
