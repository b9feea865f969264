"""A restore-validation `lambda` check written in Python (standard library only).

restore-validation invokes this function synchronously with the version 1 payload documented in
docs/extending.md and reads back {"status": "pass"|"fail"|"skip"|"error", "detail": str, "data": {}}.

This example proves two things about a restore that no generic check knows:
  * the recovery point is recent enough (options.maxRecoveryPointAgeHours, default 26): a restore test
    of a stale backup is a finding even when the restore itself works;
  * the restore job carries the metadata keys the team relies on (options.requiredMetadata), e.g. the
    subnet and security groups their EC2 restores must land in.
Replace `evaluate` with your own invariant (query the restored database, call its API, ...).

Locally: `python3 handler.py < payloads/fresh-rds.json` prints the answer, as Lambda would return it.
"""

import json
import sys
from datetime import datetime, timezone

SUPPORTED_VERSION = 1


def _parse_time(value):
    # Python 3.11 accepts the trailing Z; earlier versions need +00:00.
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def evaluate(payload, now):
    job = payload["restoreJob"]
    options = payload.get("options") or {}
    max_age_hours = float(options.get("maxRecoveryPointAgeHours", 26))
    required = options.get("requiredMetadata") or []
    if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
        return {"status": "error", "detail": "options.requiredMetadata must be a list of metadata key names"}

    # GetRestoreJobMetadata keys are case-insensitive in practice.
    present = {k.lower() for k in (job.get("metadata") or {})}
    missing = [k for k in required if k.lower() not in present]

    created = job.get("recoveryPointCreationDate")
    if created is None:
        if payload.get("mode") == "local":
            return {"status": "skip", "detail": "no recovery point time in a local run (pass --recovery-point-time)"}
        return {"status": "error", "detail": "the restore job has no recoveryPointCreationDate"}
    age_hours = (now - _parse_time(created)).total_seconds() / 3600
    data = {"recoveryPointAgeHours": round(age_hours, 2), "missingMetadata": missing}

    problems = []
    if age_hours > max_age_hours:
        problems.append(f"recovery point is {age_hours:.1f} h old (at most {max_age_hours:g} h)")
    if missing:
        problems.append(f"metadata lacks {', '.join(missing)}")
    if problems:
        return {"status": "fail", "detail": "; ".join(problems), "data": data}
    resource = (payload.get("restoredResource") or {}).get("resourceId") or job.get("createdResourceArn") or "the restored resource"
    return {"status": "pass", "detail": f"{resource}: recovery point {age_hours:.1f} h old, required metadata present", "data": data}


def handler(event, context=None, now=None):
    """The Lambda entry point (handler.handler)."""
    if not isinstance(event, dict) or event.get("version") != SUPPORTED_VERSION:
        version = event.get("version") if isinstance(event, dict) else None
        return {"status": "error", "detail": f"unsupported payload version {version!r}; this function understands {SUPPORTED_VERSION}"}
    return evaluate(event, now or datetime.now(timezone.utc))


if __name__ == "__main__":
    # Behaves like the Lambda runtime: the answer on stdout; an exception as
    # {"errorType", "errorMessage"} with exit code 1 (what Invoke reports as FunctionError).
    try:
        now = _parse_time(sys.argv[1]) if len(sys.argv) > 1 else None
        answer = handler(json.load(sys.stdin), None, now)
    except Exception as err:  # noqa: BLE001 - the runtime reports every exception the same way
        json.dump({"errorType": type(err).__name__, "errorMessage": str(err)}, sys.stdout)
        sys.exit(1)
    json.dump(answer, sys.stdout)
