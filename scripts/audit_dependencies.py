"""`make audit`'s dependency half: pip-audit over the lock file, with a verdict that cannot mislead.

pip-audit exits 0 when it could reach no vulnerability database at all, after listing
every package as "could not be audited": that reads like a pass. This says in one line
whether the lock file was audited, partly audited, or not audited, and fails only on
known vulnerabilities.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            "requirements.lock",
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        print(f"not audited: pip-audit gave no report ({result.stderr.strip()[-200:]})")
        return 0
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(
            f"not audited: the vulnerability database could not be reached for any of the "
            f"{len(deps)} locked packages (run `make audit` where PyPI's JSON API is reachable)"
        )
        return 0
    for dep in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in dep["vulns"])
        print(f"VULNERABLE {dep['name']} {dep['version']}: {ids}")
    verdict = "audited" if not skipped else f"partly audited ({len(skipped)} could not be checked)"
    print(
        f"{verdict}: {len(audited)} packages checked, {len(vulnerable)} with known vulnerabilities"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
