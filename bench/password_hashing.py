"""Password hashing: the project's Argon2id hasher (OWASP m=19 MiB, t=2, p=1) against
Django's PBKDF2 hasher as the named baseline "pbkdf2", both through make_password.

Measures milliseconds per hash on one core, hashes per second across a process pool of
os.cpu_count() workers (how bulk imports hash on workers), and peak memory. The last line
is machine-readable. Run: .venv/bin/python bench/password_hashing.py [--quick]
"""

import argparse
import os
import resource
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGON2 = "argon2"  # accounts.hashers.OwaspArgon2PasswordHasher
PBKDF2 = "pbkdf2_sha256"  # django.contrib.auth.hashers.PBKDF2PasswordHasher
PARALLEL_ROUNDS = 3


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def _hash(args: tuple[str, str]) -> str:
    from django.contrib.auth.hashers import make_password

    password, algorithm = args
    return make_password(password, hasher=algorithm)


def _passwords(count: int) -> list[str]:
    return [f"bench-password-{n:06d}-Rollbook" for n in range(count)]


def _check_hashers() -> None:
    """Fails loudly if "argon2" is not the project's OWASP hasher (we would time the wrong one)."""
    from django.contrib.auth.hashers import get_hasher, identify_hasher

    from accounts.hashers import OwaspArgon2PasswordHasher

    encoded = _hash(("warm-up", ARGON2))
    if not isinstance(identify_hasher(encoded), OwaspArgon2PasswordHasher):
        raise SystemExit(f"argon2 resolves to {type(identify_hasher(encoded)).__name__}")
    if "$argon2id$v=19$m=19456,t=2,p=1$" not in encoded:
        raise SystemExit(f"unexpected Argon2 parameters: {encoded.split('$')[1:3]}")
    _hash(("warm-up", PBKDF2))
    pbkdf2 = get_hasher(PBKDF2)
    print(f"argon2: {encoded.split('$')[1]} {encoded.split('$')[2]} {encoded.split('$')[3]}")
    print(f"pbkdf2: {type(pbkdf2).__name__}, {pbkdf2.iterations:,} iterations of SHA-256")


def _ms_per_hash(passwords: list[str], algorithm: str) -> tuple[float, float, float]:
    """Median and mean wall-clock ms per hash, and CPU ms per hash. The median is the figure:
    a small machine shared with other jobs stalls some hashes, and the median ignores those
    stalls; CPU time well below wall time says the machine was busy."""
    times = []
    cpu_started = time.process_time()
    for password in passwords:
        started = time.perf_counter()
        _hash((password, algorithm))
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(passwords)
    return statistics.median(times), statistics.fmean(times), cpu_ms


def _parallel_per_s(passwords: list[str], algorithm: str, processes: int, rounds: int) -> float:
    """The best of a few rounds over one warm pool, for the same reason as the median."""
    best = 0.0
    with Pool(processes=processes, initializer=_setup_django) as pool:
        # Start every worker and hash once in each before the clock runs.
        pool.map(_hash, [("warm-up", algorithm)] * processes * 2, chunksize=1)
        for _ in range(rounds):
            started = time.perf_counter()
            pool.map(_hash, [(p, algorithm) for p in passwords], chunksize=1)
            best = max(best, len(passwords) / (time.perf_counter() - started))
        pool.close()
        pool.join()
    return best


def _maxrss_mb(who: int) -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 hashes instead of 200")
    parser.add_argument("--hashes", type=int, default=None, help="how many hashes per measure")
    options = parser.parse_args()
    count = options.hashes or (20 if options.quick else 200)
    processes = os.cpu_count() or 1

    _setup_django()
    _check_hashers()
    passwords = _passwords(count)
    print(f"{count} hashes per measure, pool of {processes} processes (os.cpu_count())")

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average before: {load} (other work on the machine skews the figures)")

    argon2_ms, argon2_mean, argon2_cpu = _ms_per_hash(passwords, ARGON2)
    print(
        f"argon2  one process:  {argon2_ms:8.1f} ms/hash median, {argon2_mean:.1f} mean, "
        f"{argon2_cpu:.1f} CPU ({1000 / argon2_ms:.1f} hashes/s)"
    )
    pbkdf2_ms, pbkdf2_mean, pbkdf2_cpu = _ms_per_hash(passwords, PBKDF2)
    print(
        f"pbkdf2  one process:  {pbkdf2_ms:8.1f} ms/hash median, {pbkdf2_mean:.1f} mean, "
        f"{pbkdf2_cpu:.1f} CPU ({1000 / pbkdf2_ms:.1f} hashes/s)"
    )

    argon2_parallel = _parallel_per_s(passwords, ARGON2, processes, rounds=PARALLEL_ROUNDS)
    speedup = argon2_parallel / (1000 / argon2_ms)
    print(
        f"argon2  {processes} processes: {argon2_parallel:8.1f} hashes/s, best of "
        f"{PARALLEL_ROUNDS} rounds ({speedup:.2f}x one process; {count} passwords in "
        f"{count / argon2_parallel:.1f} s)"
    )

    main_mb = _maxrss_mb(resource.RUSAGE_SELF)
    worker_mb = _maxrss_mb(resource.RUSAGE_CHILDREN)
    peak_mb = max(main_mb, worker_mb)
    print(f"peak memory: {main_mb:.0f} MB this process, {worker_mb:.0f} MB largest pool worker")

    ratio = pbkdf2_ms / argon2_ms
    print(
        f"baseline ratio pbkdf2_ms / argon2_ms: {ratio:.2f} "
        f"(by CPU time: {pbkdf2_cpu / argon2_cpu:.2f})"
    )
    print(
        f"RESULT hashes={count} argon2_ms={argon2_ms:.2f} "
        f"argon2_parallel_per_s={argon2_parallel:.1f} pbkdf2_ms={pbkdf2_ms:.2f} "
        f"peak_mb={peak_mb:.0f} baseline_ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
