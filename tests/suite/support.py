"""What the suite tests share: the two fixtures a run may change, read over HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx

from conformance.reference import DEFAULT_LATEST_LE_VERSION, SEED
from conformance.target import TargetConfig

GRADE_OBJECT = f"grade object {SEED.grade_object} in org unit {SEED.org_unit}"
GRADE_CATEGORY = f"grade category {SEED.grade_category} in org unit {SEED.org_unit}"


def read_fixtures(target: TargetConfig) -> dict[str, Any]:
    """The two fixtures a run may change, read over HTTP at the latest version (waiting out a 429);
    keys as RestoredItem names them."""
    tokens = {token.label: token.secret for token in target.tokens}
    base = f"{target.base_url}/d2l/api/le/{DEFAULT_LATEST_LE_VERSION}/{SEED.org_unit}/grades"
    routes = {
        GRADE_OBJECT: (f"{base}/{SEED.grade_object}/ipsis", tokens["full"]),
        GRADE_CATEGORY: (f"{base}/categories/{SEED.grade_category}/ipsis", tokens["categories"]),
    }
    fixtures: dict[str, Any] = {}
    with httpx.Client(timeout=10.0) as client:
        for name, (url, secret) in routes.items():
            for _ in range(10):
                answer = client.get(url, headers={"Authorization": f"Bearer {secret}"})
                if answer.status_code != 429:
                    break
                time.sleep(float(answer.headers.get("retry-after", "1")))
            fixtures[name] = answer.json() if answer.status_code == 200 else f"HTTP {answer.status_code}: {answer.text}"
    return fixtures
