"""Benchmark: our build against a naive pipeline, side by side in one run.

    python benchmarks/bench.py                    # 10,000 cards, 3 alternating repetitions
    python benchmarks/bench.py --cards 1000 --cards 10000 --cards 50000 --repeat 3

For each size it generates a synthetic corpus (half the cards carry a 5-15 line Python block), then
times, alternating in every repetition: the naive pipeline (naive.py), our cold build (--no-cache),
our rebuild with nothing changed (answered by the up-to-date check), our rebuild when the content
folder changed but no card did (a new hidden file: every card is read from the cache and planned,
and the deck is found current), our rebuild after one file changed, and `check` without and with
`--lint` on the cached content (what the card-quality linter costs). Each run is a child
process; its peak memory and CPU time (user + system, with the worker processes it waited for) come
from the kernel's resource usage of that child. It prints medians of wall and CPU time, their ratios
to the naive pipeline, and peak memory. On a machine shared with other work the wall times swing
with the load; the CPU times much less (a cold build's CPU time counts every core it used).
"""

from __future__ import annotations

import compileall
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
CARDS_PER_FILE = 100
WORDS = ("list dict tuple set generator iterator closure decorator context manager coroutine "
         "thread process lock queue slice comprehension lambda module package import class").split()


def generate_corpus(folder: Path, cards: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for file_number in range((cards + CARDS_PER_FILE - 1) // CARDS_PER_FILE):
        lines = ["---", f"topic: topic-{file_number % 20}", "difficulty: intermediate", "---", "",
                 f"# Topic {file_number}", ""]
        for index in range(file_number * CARDS_PER_FILE, min(cards, (file_number + 1) * CARDS_PER_FILE)):
            a, b = rng.sample(WORDS, 2)
            lines += [f"## How does a {a} relate to a `{b}` (case {index})?", f"<!-- id: card-{index} -->", ""]
            lines += [f"A *{a}* works with a **{b}** through `{a}_{b}()`; see the example below.", ""]
            if index % 2 == 0:
                lines.append("```python")
                for line in range(rng.randint(5, 15)):
                    lines.append(f"    value_{line} = [{a!r}, {b!r}, {index + line}]  # {a} {b}"
                                 if line else f"def {a}_{b}_{index}(items):")
                lines += ["    return value_1", "```", ""]
        (folder / f"{file_number:04d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_child(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, peak resident memory (MiB) and CPU seconds of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a child that warns a lot never blocks
        process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def touch_one_file(content: Path, round_number: int) -> None:
    files = sorted(content.glob("*.md"))
    target = files[round_number % len(files)]
    with target.open("a", encoding="utf-8") as stream:
        stream.write(f"\nEdited in round {round_number}.\n")


def bench_size(cards: int, repeat: int, work: Path) -> dict[str, list[tuple[float, float, float]]]:
    content = work / f"corpus-{cards}"
    generate_corpus(content, cards)
    python = sys.executable
    ours = [python, str(ROOT / "build_deck.py"), "build", "--content", str(content), "--lock", str(work / "lock.json")]
    env_cache = ["--cache-dir", str(work / "cache")]
    kinds = ("naive", "cold", "no change", "no card changed", "one file changed", "check", "check --lint")
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kinds}
    run_child(ours + ["--out", str(work / "warm")] + env_cache, work)  # prime the cache and the lock
    os.environ["BUILD_DECK_CACHE_DIR"] = str(work / "cache")  # `check` reads the same cache
    check = [python, str(ROOT / "build_deck.py"), "check", "--content", str(content)]
    for round_number in range(repeat):
        naive = [python, str(ROOT / "benchmarks" / "naive.py"), str(content), str(work / "naive.apkg")]
        results["naive"].append(run_child(naive, work))
        shutil.rmtree(work / "cold", ignore_errors=True)
        results["cold"].append(run_child(ours + ["--out", str(work / "cold"), "--no-cache"], work))
        results["no change"].append(run_child(ours + ["--out", str(work / "warm")] + env_cache, work))
        (content / f".unrelated-{round_number}").write_text("not a card\n", encoding="utf-8")
        results["no card changed"].append(run_child(ours + ["--out", str(work / "warm")] + env_cache, work))
        touch_one_file(content, round_number)
        results["one file changed"].append(run_child(ours + ["--out", str(work / "warm")] + env_cache, work))
        # what linting adds to a check, side by side on the same cached content
        results["check"].append(run_child(check, work))
        results["check --lint"].append(run_child(check + ["--lint"], work))
    return results


@click.command()
@click.option("--cards", "sizes", type=int, multiple=True, default=[10_000], show_default=True)
@click.option("--repeat", type=int, default=3, show_default=True)
def main(sizes: tuple[int, ...], repeat: int) -> None:
    """Time the naive pipeline and our builds on synthetic corpora; print a Markdown table."""
    # Byte-compile the package first, as pip does on install: the libraries both pipelines import
    # are compiled already, and with PYTHONDONTWRITEBYTECODE set (as on some CI machines) our own
    # modules would otherwise be compiled from source in every run, a cost no installed user pays.
    compiled = compileall.compile_dir(ROOT / "deckbuild", quiet=1)
    help_times = [run_child([sys.executable, str(ROOT / "build_deck.py"), "--help"], ROOT)[0] for _ in range(5)]
    click.echo(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{platform.system()} {platform.release()}")
    click.echo(f"`build_deck.py --help`: median {statistics.median(help_times):.3f} s"
               f"{'' if compiled else ' (the package could not be byte-compiled: its folder is read-only?)'}\n")
    click.echo("| cards | run | median s | x naive | CPU s | CPU x naive | peak MiB |")
    click.echo("|---:|---|---:|---:|---:|---:|---:|")
    for cards in sizes:
        with tempfile.TemporaryDirectory(prefix="deckbench-") as scratch:
            results = bench_size(cards, repeat, Path(scratch))
        naive = statistics.median(t for t, _, _ in results["naive"])
        naive_cpu = statistics.median(c for _, _, c in results["naive"])
        for name, runs in results.items():
            median = statistics.median(t for t, _, _ in runs)
            cpu = statistics.median(c for _, _, c in runs)
            peak = max(m for _, m, _ in runs)
            click.echo(
                f"| {cards:,} | {name} | {median:.2f} | {median / naive:.2f} | {cpu:.2f} | {cpu / naive_cpu:.2f} "
                f"| {peak:.0f} |"
            )


if __name__ == "__main__":
    main()
